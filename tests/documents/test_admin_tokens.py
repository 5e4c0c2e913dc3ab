"""API tokens in the Django admin: made for a user and shown once, revoked in bulk (live Daphne)."""

import re

from tests.api.client import ApiClient
from tests.documents.admin_http import AdminSession


def test_admin_makes_a_token_shows_it_once_and_revokes_it(daphne_server, unique):
    root, user = f"{unique}root", f"{unique}scripter"
    ids = daphne_server.django(
        "from django.contrib.auth import get_user_model\n"
        "User = get_user_model()\n"
        f"User.objects.create_superuser({root!r}, password='root-password')\n"
        f"result = User.objects.create_user({user!r}).pk\n"
    )
    admin = AdminSession(daphne_server.url)
    assert admin.login(root, "root-password"), "the superuser must get into the admin"

    created = admin.post("/admin/documents/apitoken/add/", {"user": str(ids), "name": "nightly export"})
    assert created.status == 200, f"expected the page showing the new token, got {created.status}"
    raw = re.search(r'<code id="api-token"[^>]*>(cdt_[A-Za-z0-9_\-]+)</code>', created.text).group(1)
    assert "not be shown again" in created.text

    api = ApiClient(daphne_server.url, token=raw)
    assert api.get("/api/documents/").status == 200, "the token shown must work"

    listing = admin.get("/admin/documents/apitoken/")
    assert listing.status == 200 and "nightly export" in listing.text
    assert raw not in listing.text, "the token itself is never shown again"
    token_id = re.search(r'/admin/documents/apitoken/(\d+)/change/', listing.text).group(1)
    detail = admin.get(f"/admin/documents/apitoken/{token_id}/change/")
    assert raw not in detail.text and raw[:12] in detail.text, "only the hint is shown"

    revoked = admin.post("/admin/documents/apitoken/", {"action": "revoke_tokens", "_selected_action": token_id})
    assert revoked.status == 302
    assert api.get("/api/documents/").status == 401, "a revoked token must stop working"

"""Share links and invitations over the REST API (accounts/api.py) on a live server, both set-ups: what
the owner makes, lists and turns off, what a visitor then gets, and that every role but the owner's is
offered, read from the model (a role added to `Role` is tested here by itself)."""

import asyncio
from datetime import datetime, timedelta, timezone

from documents.models import Role
from tests.api.client import ApiClient, SessionClient, make_cast
from tests.support.mail import link_in, wait_for_mail

GRANTABLE = [role.value for role in Role if role != Role.OWNER]


def links(api, document) -> list[dict]:
    reply = api.get(f"/api/documents/{document}/links/")
    assert reply.status == 200, reply.text
    return reply.json()


def test_the_schema_offers_every_role_but_the_owners(daphne_server):
    schema = ApiClient(daphne_server.url).get("/api/openapi.json").json()
    assert schema["components"]["schemas"]["GrantableRole"]["enum"] == GRANTABLE
    for path in ("/api/documents/{document_id}/links/", "/api/documents/{document_id}/links/{link_id}/",
                 "/api/documents/{document_id}/invitations/",
                 "/api/documents/{document_id}/invitations/{invitation_id}/"):
        assert path in schema["paths"]


def test_a_link_per_role_is_made_listed_followed_and_turned_off(daphne_server, unique):
    cast = make_cast(daphne_server, unique)
    owner, doc = cast["owner"], cast["document"]
    made = {}
    for role in GRANTABLE:
        reply = owner.post(f"/api/documents/{doc}/links/", {"role": role, "days": 7})
        assert reply.status == 201, reply.text
        made[role] = reply.json()
        assert made[role]["role"] == role and made[role]["uses"] == 0
        assert made[role]["url"].startswith(f"{daphne_server.url}/links/")
        expires = datetime.fromisoformat(made[role]["expires_at"])
        assert timedelta(days=6, hours=23) < expires - datetime.now(timezone.utc) <= timedelta(days=7)
    assert {link["id"] for link in links(owner, doc)} == {link["id"] for link in made.values()}

    # Someone with no role follows the viewer link: they can read the document.
    viewer_link = made[Role.VIEWER.value]
    guest = SessionClient(daphne_server.url, cast["names"]["stranger"], f"{cast['names']['stranger']}-password")
    assert guest.get(viewer_link["url"].removeprefix(daphne_server.url)).status == 302
    assert cast["stranger"].get(f"/api/documents/{doc}/").json()["role"] == Role.VIEWER.value
    assert next(link for link in links(owner, doc) if link["id"] == viewer_link["id"])["uses"] == 1

    # Turned off: gone from the list, the link answers 410, the guest keeps the role; again changes nothing.
    for _ in range(2):
        assert owner.delete(f"/api/documents/{doc}/links/{viewer_link['id']}/").status == 204
    assert viewer_link["id"] not in {link["id"] for link in links(owner, doc)}
    assert guest.get(viewer_link["url"].removeprefix(daphne_server.url)).status == 410
    assert cast["stranger"].get(f"/api/documents/{doc}/").json()["role"] == Role.VIEWER.value


def test_links_refuse_the_owner_role_bad_lifetimes_and_other_documents_links(daphne_server, unique):
    cast = make_cast(daphne_server, unique)
    owner, doc = cast["owner"], cast["document"]
    for body in ({"role": "owner"}, {"role": "editor", "days": 0}, {"role": "editor", "days": 366}, {}):
        reply = owner.post(f"/api/documents/{doc}/links/", body)
        assert reply.status == 422, (body, reply.text)
        assert reply.json()["detail"].startswith("Invalid request")
    forever = owner.post(f"/api/documents/{doc}/links/", {"role": "editor"}).json()
    assert forever["expires_at"] is None
    other = owner.post("/api/documents/", {"title": "Other"}).json()["id"]
    assert owner.delete(f"/api/documents/{other}/links/{forever['id']}/").status == 404
    assert owner.delete(f"/api/documents/{doc}/links/999999999/").status == 404
    # Only the owner: others with a role are told so, others do not see the document at all.
    for who, status in (("editor", 403), ("viewer", 403), ("stranger", 404)):
        assert cast[who].get(f"/api/documents/{doc}/links/").status == status
        assert cast[who].post(f"/api/documents/{doc}/links/", {"role": "viewer"}).status == status
        assert cast[who].delete(f"/api/documents/{doc}/links/{forever['id']}/").status == status
    assert links(owner, doc)[0]["id"] == forever["id"]


async def test_an_invitation_is_sent_listed_and_withdrawn(daphne_server, unique):
    cast = make_cast(daphne_server, unique)
    owner, doc = cast["owner"], cast["document"]
    address = f"{unique}-invited@example.com"
    reply = await asyncio.to_thread(owner.post, f"/api/documents/{doc}/invitations/",
                                    {"email": address, "role": "editor"})
    assert reply.status == 201, reply.text
    invitation = reply.json()
    assert invitation["email"] == address and invitation["invited_by"] == cast["names"]["owner"]
    message = await wait_for_mail(daphne_server, address)
    url = link_in(message, daphne_server.url)
    assert "/invitations/" in url
    listed = owner.get(f"/api/documents/{doc}/invitations/").json()
    assert [item["id"] for item in listed] == [invitation["id"]]

    assert owner.delete(f"/api/documents/{doc}/invitations/{invitation['id']}/").status == 204
    assert owner.get(f"/api/documents/{doc}/invitations/").json() == []
    assert ApiClient(daphne_server.url).get(url.removeprefix(daphne_server.url)).status == 410
    assert owner.delete(f"/api/documents/{doc}/invitations/{invitation['id']}/").status == 204, "withdrawing is idempotent"

    for body in ({"email": "not an address", "role": "editor"}, {"email": "a@b", "role": "owner"}):
        assert owner.post(f"/api/documents/{doc}/invitations/", body).status == 422
    assert cast["editor"].post(f"/api/documents/{doc}/invitations/", {"email": address, "role": "viewer"}).status == 403

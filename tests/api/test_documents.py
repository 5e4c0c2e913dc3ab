"""The documents endpoints and who may use them, against a real Daphne (both set-ups)."""

import json
import uuid

import pytest

from tests.api.client import ApiClient, SessionClient, make_cast


@pytest.fixture(scope="module")
def cast(daphne_server):
    """A cast for the tests that change nothing (seeding users costs seconds: once per module)."""
    return make_cast(daphne_server, f"m{uuid.uuid4().hex[:8]}")


@pytest.fixture
def own_cast(daphne_server, unique):
    """A cast of one's own, for tests that delete the document or revoke tokens."""
    return make_cast(daphne_server, unique)


def detail(document) -> str:
    return f"/api/documents/{document}/"


def test_anonymous_callers_get_401(daphne_server, cast):
    document = cast["document"]
    for token in (None, "cdt_not-a-real-token", "garbage"):
        api = ApiClient(daphne_server.url, token=token)
        for path in ("/api/documents/", detail(document), f"{detail(document)}versions/",
                     f"/api/documents/{document}/export?format=md"):
            reply = api.get(path)
            assert reply.status == 401, f"{token!r} {path}: {reply.status}"
            assert reply.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    basic = ApiClient(daphne_server.url).get("/api/documents/", headers={"Authorization": "Basic dTpw"})
    assert basic.status == 401


def test_a_document_the_caller_cannot_see_is_a_404(daphne_server, cast):
    document, stranger = cast["document"], cast["stranger"]
    for reply in (
        stranger.get(detail(document)),
        stranger.get(f"{detail(document)}versions/"),
        stranger.export(document, "md"),
        stranger.patch(detail(document), {"title": "mine"}),
        stranger.delete(detail(document)),
    ):
        assert reply.status == 404, reply.status
        assert reply.json() == {"detail": "No such document"}
    assert stranger.get("/api/documents/").json() == {"items": [], "count": 0}
    missing = uuid.uuid4()
    assert cast["owner"].get(detail(missing)).status == 404
    assert cast["owner"].export(missing, "md").status == 404
    assert cast["owner"].get("/api/documents/not-a-uuid/").status == 404


def test_roles(own_cast):
    cast = own_cast
    document = cast["document"]
    viewer, editor, owner = cast["viewer"], cast["editor"], cast["owner"]

    # Viewer: read and export, nothing else.
    seen = viewer.get(detail(document)).json()
    assert (seen["title"], seen["role"], seen["owner"]) == ("Shared plan", "viewer", cast["names"]["owner"])
    assert viewer.export(document, "txt").status == 200
    assert viewer.get(f"{detail(document)}versions/").status == 200
    assert viewer.patch(detail(document), {"title": "Viewer's"}).status == 403
    assert viewer.delete(detail(document)).status == 403

    # Editor: may rename, not delete.
    renamed = editor.patch(detail(document), {"title": "  Renamed plan  "})
    assert renamed.status == 200 and renamed.json()["title"] == "Renamed plan"
    assert editor.delete(detail(document)).status == 403
    assert viewer.get(detail(document)).json()["title"] == "Renamed plan"

    # Owner: may delete; then it is gone for everyone.
    assert owner.delete(detail(document)).status == 204
    for client in (owner, editor, viewer):
        assert client.get(detail(document)).status == 404


def test_a_revoked_token_is_a_401(daphne_server, own_cast):
    cast = own_cast
    viewer = cast["viewer"]
    assert viewer.get("/api/documents/").status == 200
    daphne_server.django(
        "from documents.models import ApiToken\n"
        "from documents.services import token_revoke\n"
        f"for token in ApiToken.objects.filter(user__username={cast['names']['viewer']!r}):\n"
        "    token_revoke(token=token)\n"
    )
    assert viewer.get("/api/documents/").status == 401
    assert viewer.export(cast["document"], "md").status == 401


def test_list_create_filter_and_paginate(daphne_server, unique):
    name = f"{unique}lister"
    seed = daphne_server.seed(users=[name])
    api = ApiClient(daphne_server.url, token=seed["tokens"][name])
    created = api.post("/api/documents/", {"title": "Alpha notes"})
    assert created.status == 201
    body = created.json()
    # `notes` says what an import (with `content`) dropped: nothing here.
    assert set(body) == {"id", "title", "owner", "role", "created_at", "updated_at", "notes"}
    assert (body["title"], body["owner"], body["role"], body["notes"]) == ("Alpha notes", name, "owner", [])
    assert api.post("/api/documents/", {}).json()["title"] == "Untitled document"
    for n in range(3):
        assert api.post("/api/documents/", {"title": f"Beta {n}"}).status == 201

    everything = api.get("/api/documents/").json()
    assert everything["count"] == 5
    assert [d["title"] for d in everything["items"]][:3] == ["Beta 2", "Beta 1", "Beta 0"], "newest edit first"
    assert [d["title"] for d in api.get("/api/documents/", title="alpha").json()["items"]] == ["Alpha notes"]
    page = api.get("/api/documents/", page=2, page_size=2).json()
    assert page["count"] == 5 and [d["title"] for d in page["items"]] == ["Beta 0", "Untitled document"]

    for bad in ({"title": "x" * 201}, {"title": "   "}, {"title": "a\x00b"}, {"title": 5}):
        reply = api.post("/api/documents/", bad)
        assert reply.status == 422, f"{bad!r}: {reply.status}"
    assert api.get("/api/documents/", page=0).status == 422
    assert api.get("/api/documents/", page_size=1000).status == 422


def test_session_auth_needs_csrf_for_unsafe_methods(daphne_server, unique):
    name = f"{unique}browser"
    seed = daphne_server.seed(users=[name], documents=[{"owner": name, "title": "Mine"}])
    document = seed["documents"][0]
    browser = SessionClient(daphne_server.url, name, f"{name}-password")

    assert browser.get("/api/documents/").json()["count"] == 1
    assert browser.export(document, "txt").status == 200

    refused = browser.patch(detail(document), {"title": "No CSRF"})
    assert refused.status == 403 and "CSRF" in refused.json()["detail"]
    accepted = browser.patch(detail(document), {"title": "With CSRF"}, headers=browser.csrf_headers())
    assert accepted.status == 200 and accepted.json()["title"] == "With CSRF"

    # A token, when sent, decides alone: a bad one is refused even with a valid session.
    both = browser.get("/api/documents/", headers={"Authorization": "Bearer cdt_wrong"})
    assert both.status == 401


def test_openapi_schema_and_docs(daphne_server):
    api = ApiClient(daphne_server.url)
    raw = api.get("/api/openapi.json").body

    def unique_keys(pairs):
        # A key given twice (an int 201 from the responses and a "201" from openapi_extra) is valid to
        # Python's json but not to Swagger UI, which then renders nothing ("duplicated mapping key").
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicated keys in the schema: {keys}"
        return dict(pairs)

    schema = json.loads(raw, object_pairs_hook=unique_keys)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert set(paths) == {
        "/api/documents/",
        "/api/documents/{document_id}/",
        "/api/documents/{document_id}/versions/",
        "/api/documents/{document_id}/versions/{version_id}/",
        "/api/documents/{document_id}/versions/{version_id}/restore",
        "/api/documents/{document_id}/versions/{older_id}/diff/{newer_id}",
        "/api/documents/{document_id}/export",
        "/api/documents/{document_id}/content",
        "/api/documents/import",
        "/api/documents/{document_id}/images",
        # Sharing (issue 19, accounts/api.py).
        "/api/documents/{document_id}/links/",
        "/api/documents/{document_id}/links/{link_id}/",
        "/api/documents/{document_id}/invitations/",
        "/api/documents/{document_id}/invitations/{invitation_id}/",
        # Comments and their notifications (issue 20, documents/comments_http.py).
        "/api/documents/{document_id}/comments/",
        "/api/documents/{document_id}/comments/{comment_id}/",
        "/api/documents/{document_id}/comments/{comment_id}/replies/",
        "/api/documents/{document_id}/comments/{comment_id}/resolve/",
        "/api/documents/{document_id}/comments/{comment_id}/reopen/",
        "/api/documents/{document_id}/people/",
        "/api/notifications/",
        "/api/notifications/unread-count/",
        "/api/notifications/read-all/",
        "/api/notifications/{notification_id}/read/",
    }
    assert set(paths["/api/documents/{document_id}/versions/{version_id}/"]) == {"get", "patch"}
    assert set(paths["/api/documents/{document_id}/"]) == {"get", "patch", "delete"}
    content = paths["/api/documents/{document_id}/content"]
    assert set(content) == {"put", "post"}
    for operation in content.values():
        assert set(operation["requestBody"]["content"]) == {"text/markdown", "text/html", "text/plain",
                                                            "application/json"}
        assert {"200", "403", "412", "413", "415"} <= set(operation["responses"])
        assert "ETag" in operation["responses"]["200"]["headers"]
    upload = paths["/api/documents/import"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["properties"]["file"]["format"] == "binary" and upload["required"] == ["file"]
    export = paths["/api/documents/{document_id}/export"]["get"]
    assert {p["name"] for p in export["parameters"]} == {"document_id", "format", "version"}
    content_types = set(export["responses"]["200"]["content"])
    assert content_types == {"text/plain", "text/markdown", "text/html", "application/json", "application/pdf",
                             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}, schemes
    docs = api.get("/api/docs")
    assert docs.status == 200 and "openapi.json" in docs.text

"""The API's error contract, against a real Daphne: every answer that is not 2xx is JSON
`{"detail": "<sentence>", "errors": [...]?}`, with a status the OpenAPI schema declares for
the operation and a proper status line; nothing a client sends is a 500.
"""

import json
import uuid

import pytest

from tests.api.client import ApiClient, Reply

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def caller(daphne_server):
    name = f"e{uuid.uuid4().hex[:8]}"
    seed = daphne_server.seed(users=[name], documents=[{"owner": name, "title": "Errors"}])
    return ApiClient(daphne_server.url, token=seed["tokens"][name]), seed["documents"][0]


def assert_error(reply: Reply, status: int, contains: str = "") -> dict:
    assert reply.status == status, f"expected {status}, got {reply.status}: {reply.body[:300]!r}"
    assert reply.headers["Content-Type"].startswith("application/json"), reply.headers["Content-Type"]
    body = reply.json()
    assert isinstance(body["detail"], str) and body["detail"], body
    assert set(body) <= {"detail", "errors"}, body
    assert contains in body["detail"], body
    return body


def test_malformed_ids_and_unknown_paths_are_json_404s(caller):
    api, _document = caller
    for path in ("/api/documents/not-a-uuid/", "/api/documents/not-a-uuid/export?format=md",
                 "/api/nothing", "/api/documents/%00/versions/", "/api/"):
        assert_error(api.get(path), 404)
    anonymous = ApiClient(api.base_url)
    assert_error(anonymous.get("/api/nothing/at/all"), 404)


def test_an_unsupported_method_is_a_json_405_with_allow(caller):
    api, document = caller
    reply = api.request("PUT", "/api/documents/", body={"title": "x"})
    assert_error(reply, 405, "PUT")
    assert set(reply.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}
    reply = api.request("POST", f"/api/documents/{document}/export")
    assert_error(reply, 405)
    assert set(reply.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


def test_both_slash_forms_work_for_every_method(caller):
    api, document = caller
    created = api.post("/api/documents", {"title": "No slash"})
    assert created.status == 201, created.body
    new = created.json()["id"]
    renamed = api.patch(f"/api/documents/{new}", {"title": "Still no slash"})
    assert renamed.status == 200 and renamed.json()["title"] == "Still no slash", renamed.body
    assert api.get(f"/api/documents/{new}").json()["title"] == "Still no slash"
    assert api.get(f"/api/documents/{document}/versions").status == 200
    assert api.get(f"/api/documents/{document}/export/", format="txt").status == 200
    assert api.delete(f"/api/documents/{new}").status == 204
    assert_error(api.get(f"/api/documents/{new}"), 404, "No such document")


def test_bodies_must_be_json_objects(caller):
    api, document = caller
    for path, method in (("/api/documents/", "POST"), (f"/api/documents/{document}/", "PATCH")):
        assert_error(api.request(method, path, body=b'{"title": "y"}', headers={"Content-Type": "text/plain"}),
                     415, "application/json")
        assert_error(api.request(method, path, body=b"title=y",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
        status, _reason = api.status_line(method, path, body=b'{"title": "y"}')
        assert status == 415, "a body without Content-Type"
        for not_an_object in (b"[null, null]", b'"title"', b"5", b"null"):
            body = assert_error(api.request(method, path, body=not_an_object, headers=JSON), 422, "JSON object")
            assert body["errors"], body
        assert_error(api.request(method, path, body=b'{"title":', headers=JSON), 400, "JSON")
    charset = api.post("/api/documents/", b'{"title": "utf"}',
                       headers={"Content-Type": "application/json; charset=utf-8"})
    assert charset.status == 201, charset.body


def test_validation_errors_say_what_is_wrong(caller):
    api, _document = caller
    body = assert_error(api.post("/api/documents/", {"title": 5}), 422)
    assert body["errors"] and body["errors"][0]["loc"][-1] == "title", body
    assert "title" in body["detail"]
    body = assert_error(api.get("/api/documents/", page=0), 422)
    assert "page" in body["detail"]


def test_too_large_a_body_is_a_413(caller):
    api, _document = caller
    huge = json.dumps({"title": "x" * 3_000_000}).encode()
    assert_error(api.post("/api/documents/", huge), 413, "too large")


def test_export_format_is_a_required_enum(caller, daphne_server):
    api, document = caller
    assert_error(api.get(f"/api/documents/{document}/export"), 422, "format")
    assert_error(api.export(document, "pdfx"), 422, "format")
    schema = ApiClient(daphne_server.url).get("/api/openapi.json").json()
    export = schema["paths"]["/api/documents/{document_id}/export"]["get"]
    format_parameter = next(p for p in export["parameters"] if p["name"] == "format")
    assert format_parameter["required"] is True
    enum = format_parameter["schema"].get("enum") or schema["components"]["schemas"][
        format_parameter["schema"]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert set(enum) >= {"txt", "md", "html", "json"}


def test_head_works_where_get_does(caller):
    api, document = caller
    for path in ("/api/documents/", f"/api/documents/{document}/", f"/api/documents/{document}/versions/",
                 f"/api/documents/{document}/export?format=md"):
        get = api.get(path)
        head = api.request("HEAD", path)
        assert (head.status, head.body) == (200, b""), (path, head.status)
        assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert api.status_line("HEAD", f"/api/documents/{uuid.uuid4()}/") == (404, "Not Found")


def test_status_lines_name_the_status(caller):
    api, _document = caller
    assert api.status_line("GET", "/api/documents/?page=0") == (422, "Unprocessable Content")
    assert api.status_line("POST", "/api/documents/", body=b"x",
                       headers={"Content-Type": "text/plain"}) == (415, "Unsupported Media Type")


def test_every_operation_declares_the_errors_it_can_answer(daphne_server):
    schema = ApiClient(daphne_server.url).get("/api/openapi.json").json()
    error_schema = schema["components"]["schemas"]["Error"]
    assert error_schema["required"] == ["detail"] and set(error_schema["properties"]) == {"detail", "errors"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            declared = set(operation["responses"])
            expected = {"401", "404", "405", "422", "429"}
            if "requestBody" in operation:
                expected |= {"400", "413", "415"}
            assert expected <= declared, f"{method} {path} lacks {expected - declared}"
            for status in expected:
                content = operation["responses"][status]["content"]["application/json"]["schema"]
                assert content == {"$ref": "#/components/schemas/Error"}, (method, path, status, content)


@pytest.mark.parametrize("error, status", [("DocumentGone", 404), ("Unavailable", 503)])
def test_the_live_documents_errors_are_json_with_their_status(rf, error, status):
    """A document deleted meanwhile, or whose server did not answer in time (collab.live), is no 500."""
    from collab import live
    from documents.api import api

    response = api.on_exception(rf.get("/api/documents/"), getattr(live, error)("x"))
    assert response.status_code == status, response.content
    assert isinstance(json.loads(response.content)["detail"], str)
    if status == 503:
        assert response["Retry-After"], "a 503 says when to try again"

"""The project's routes on the suite's live server, which runs in development mode (DEBUG=1)."""

from tests.api.client import ApiClient


def test_an_unknown_api_path_is_json_even_in_development_mode(daphne_server):
    # API clients get the agreed shape whatever the mode; pages get Django's debug 404 in development mode.
    for path in ("/api/nope", "/api/documents/not-a-uuid/", "/api/documents/not-a-uuid/export"):
        reply = ApiClient(daphne_server.url).get(path)
        assert reply.status == 404 and reply.headers["Content-Type"] == "application/json", (path, reply.text[:300])
        assert reply.json() == {"detail": "There is nothing at this address."}

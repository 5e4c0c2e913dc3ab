"""The offline service worker's script (issue 19): served from the root, so that its scope covers
/documents/, to anyone (it holds no data), never from a stale HTTP cache, and under the site's CSP."""

from tests.api.client import ApiClient


def test_the_service_worker_is_served_from_the_root(daphne_server):
    reply = ApiClient(daphne_server.url).get("/service-worker.js")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/javascript")
    assert reply.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in reply.headers["Content-Security-Policy"]
    assert "addEventListener('fetch'" in reply.text

"""A small HTTP client for the REST API of a live test server (urllib: the suite has no requests/httpx).

    api = ApiClient(server.url, token=token)
    reply = api.get(f"/api/documents/{id}/export", format="md")
    reply.status, reply.headers["ETag"], reply.text, reply.json()

`SessionClient` signs in through the site's login form and keeps the cookies,
as a browser does; it sends the CSRF token only when told to. Redirects are
never followed. The `a*` methods run the request in a thread, for tests that
also drive WebSocket clients on the event loop.
"""

import asyncio
import http.client
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message

from tests.support.waits import wait_until


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class ApiClient:
    def __init__(self, base_url: str, *, token: str | None = None):
        self.base_url = base_url
        self.token = token
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPCookieProcessor(self.cookies))

    def request(self, method: str, path: str, *, body=None, headers: dict | None = None, **query) -> Reply:
        url = self.base_url + path
        if query:
            given = {k: v for k, v in query.items() if v is not None}
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(given)
        all_headers = dict(headers or {})
        if self.token is not None and "Authorization" not in all_headers:
            all_headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with self._opener.open(req, timeout=30) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.headers, error.read())

    def status_line(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None):
        """(status, reason phrase) exactly as the server sent them; sends no Content-Type unless told."""
        connection = http.client.HTTPConnection(urllib.parse.urlsplit(self.base_url).netloc, timeout=30)
        all_headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        connection.request(method, path, body=body, headers={**all_headers, **(headers or {})})
        response = connection.getresponse()
        response.read()
        connection.close()
        return response.status, response.reason

    def get(self, path, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs) -> Reply:
        return self.request("POST", path, body=body, **kwargs)

    def patch(self, path, body=None, **kwargs) -> Reply:
        return self.request("PATCH", path, body=body, **kwargs)

    def delete(self, path, **kwargs) -> Reply:
        return self.request("DELETE", path, **kwargs)

    async def aget(self, path, **kwargs) -> Reply:
        return await asyncio.to_thread(self.get, path, **kwargs)

    def export(self, document_id, format_name: str, **kwargs) -> Reply:
        return self.get(f"/api/documents/{document_id}/export", format=format_name, **kwargs)

    async def aexport(self, document_id, format_name: str, **kwargs) -> Reply:
        return await asyncio.to_thread(self.export, document_id, format_name, **kwargs)


class SessionClient(ApiClient):
    """Signed in with a username and password through /accounts/login/, like a browser."""

    def __init__(self, base_url: str, username: str, password: str):
        super().__init__(base_url)
        form = self.get("/accounts/login/")
        assert form.status == 200, f"login page: {form.status}"
        middleware_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        reply = self.request(
            "POST", "/accounts/login/",
            body=urllib.parse.urlencode({"username": username, "password": password,
                                         "csrfmiddlewaretoken": middleware_token}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": base_url + "/accounts/login/"},
        )
        assert reply.status == 302, f"sign-in as {username} failed: {reply.status}"

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)

    def csrf_headers(self) -> dict:
        return {"X-CSRFToken": self.cookie("csrftoken"), "Referer": self.base_url + "/"}


async def wait_for_version(api: ApiClient, document, predicate, timeout: float = 30.0) -> dict:
    """The newest version once one satisfies predicate(version, its txt export)."""

    async def newest_matching():
        versions = (await api.aget(f"/api/documents/{document}/versions/")).json()["items"]
        if versions and predicate((await api.aexport(document, "txt", version=versions[0]["id"])).text):
            return versions[0]
        return None

    # Versions are taken on the server's own schedule (2 s here): nothing to await but the list.
    return await wait_until(newest_matching, timeout, what="a version with the expected content", step=0.2)


def make_cast(daphne_server, prefix: str) -> dict:
    """An owner, an editor, a viewer and a stranger (with tokens), and a document they share."""
    names = {role: f"{prefix}{role}" for role in ("owner", "editor", "viewer", "stranger")}
    seed = daphne_server.seed(
        users=list(names.values()),
        documents=[{"owner": names["owner"], "title": "Shared plan",
                    "roles": {names["editor"]: "editor", names["viewer"]: "viewer"}}],
    )
    clients = {role: ApiClient(daphne_server.url, token=seed["tokens"][name]) for role, name in names.items()}
    return {"document": seed["documents"][0], "names": names, "tokens": seed["tokens"], **clients}


def paragraphs(api, document) -> list[str]:
    """The document's blocks' text, from the live JSON export."""
    reply = api.export(document, "json")
    assert reply.status == 200, reply.text
    return ["".join(n.get("text", "") for n in block.get("content", ())) for block in reply.json()["content"]]

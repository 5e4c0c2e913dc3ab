"""Talking to the admin of a live test server as a signed-in person, and crafting versions.

`AdminSession` is a small cookie-keeping HTTP client on urllib (the suite has
no requests/httpx): it signs in through the admin's own login form and sends
the CSRF token with every POST, as a browser would. Redirects are not
followed, so that tests see them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html import unescape


@dataclass(frozen=True)
class Response:
    status: int
    # The Location header of a redirect, else "".
    location: str
    text: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class AdminSession:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect)

    def _open(self, request) -> Response:
        try:
            with self._opener.open(request, timeout=30) as reply:
                return Response(reply.status, reply.headers.get("Location", ""), reply.read().decode())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.headers.get("Location", ""), error.read().decode(errors="replace"))

    def get(self, path: str) -> Response:
        return self._open(urllib.request.Request(self.base_url + path))

    def post(self, path: str, data: dict | None = None, *, csrf_token: str | None = None) -> Response:
        """POST a form with the session's CSRF token (or `csrf_token`, to test a forged request)."""
        token = csrf_token if csrf_token is not None else self.csrf_token()
        body = urllib.parse.urlencode({**(data or {}), "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(self.base_url + path, data=body, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        return self._open(request)

    def csrf_token(self) -> str:
        token = next((c.value for c in self.cookies if c.name == "csrftoken"), None)
        if token is None:
            self.get("/admin/login/")  # sets the cookie
            token = next(c.value for c in self.cookies if c.name == "csrftoken")
        return token

    def login(self, username: str, password: str) -> bool:
        """Sign in through the admin's form; True if the admin let the person in."""
        reply = self.post("/admin/login/?next=/admin/", {"username": username, "password": password, "next": "/admin/"})
        return reply.status == 302 and reply.location.endswith("/admin/")

    # --- reading the version pages ---------------------------------------------------

    def versions(self, document_id) -> list[dict]:
        """Rows of the first page of a document's versions: id, kind, label, authors, time."""
        reply = self.get(f"/admin/documents/document/{document_id}/versions/")
        assert reply.status == 200, f"expected the versions page, got {reply.status}"
        rows = []
        row = re.compile(r'<tr class="version" data-version="(\d+)" data-kind="(\w+)">(.*?)</tr>', re.S)
        for match in row.finditer(reply.text):
            cells = match.group(3)
            rows.append({
                "id": int(match.group(1)),
                "kind": match.group(2),
                "label": unescape(_cell(cells, "label")),
                "authors": [a for a in unescape(_cell(cells, "authors")).split(", ") if a and a != "—"],
                "time": unescape(re.sub(r"<[^>]+>", "", _cell(cells, "time"))).strip(),
            })
        return rows

    async def wait_for_versions(self, document_id, count: int, timeout: float = 15.0) -> list[dict]:
        """Wait until the document has at least `count` versions (the engine snapshots on its own clock)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = await asyncio.to_thread(self.versions, document_id)
            if len(rows) >= count:
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} versions within {timeout}s, have {len(rows)}: {rows}")
            await asyncio.sleep(0.1)  # polling interval: versions appear on the server's snapshot timer


    async def wait_for_page(self, path: str, predicate, timeout: float = 10.0) -> Response:
        """GET `path` until predicate(response) holds (e.g. live status, which other processes report by heartbeat)."""
        deadline = time.monotonic() + timeout
        while True:
            reply = await asyncio.to_thread(self.get, path)
            if predicate(reply):
                return reply
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} did not show what was expected within {timeout}s")
            await asyncio.sleep(0.1)  # polling interval of a page that changes on the server's own clock


def _cell(cells: str, css_class: str) -> str:
    match = re.search(rf'<td class="{css_class}">(.*?)</td>', cells, re.S)
    return match.group(1).strip() if match else ""


def marked(html: str, tag: str) -> list[str]:
    """Text inside each <ins> or <del> of a diff page, markup stripped."""
    return [unescape(re.sub(r"<[^>]+>", "", m)).strip() for m in re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S)]


# One password for the whole cast: hashing it (deliberately slow) once, not once per user.
PASSWORD = "cast-password"


@dataclass(frozen=True)
class Cast:
    """The people of the version-history tests (one of each kind), made once per module."""

    owner: str  # owns the documents
    editor: str  # edits them
    restorer: str  # staff, may view, change and restore documents
    staff: str  # staff, may view and change documents, not restore them
    outsider: str  # signed-in user, not staff
    root: str  # superuser
    tokens: dict  # API tokens of the owner and the editor

    @staticmethod
    def password(username: str) -> str:
        return PASSWORD


def make_cast(server, prefix: str) -> Cast:
    """Create the cast's users in one go (each call to the server's database costs a process start)."""
    names = {role: f"{prefix}{role}" for role in ("owner", "editor", "restorer", "staff", "outsider", "root")}
    tokens = server.django(
        "from django.contrib.auth import get_user_model\n"
        "from django.contrib.auth.models import Permission\n"
        "from django.contrib.auth.hashers import make_password\n"
        "from documents.services import token_create\n"
        "User = get_user_model()\n"
        f"names = {names!r}\n"
        f"hashed = make_password({PASSWORD!r})\n"
        "users = {role: User.objects.create(username=name, password=hashed) for role, name in names.items()}\n"
        "perms = Permission.objects.filter(content_type__app_label='documents')\n"
        "for role in ('restorer', 'staff'):\n"
        "    users[role].is_staff = True\n"
        "    users[role].save()\n"
        "    wanted = ['view_document', 'change_document', 'view_snapshot']\n"
        "    if role == 'restorer':\n"
        "        wanted.append('restore_version')\n"
        "    users[role].user_permissions.set(perms.filter(codename__in=wanted))\n"
        "users['root'].is_staff = users['root'].is_superuser = True\n"
        "users['root'].save()\n"
        "result = {names[r]: token_create(user=users[r], name='test')[1] for r in ('owner', 'editor')}\n"
    )
    return Cast(**names, tokens=tokens)


def make_document(server, cast: Cast, title: str, versions: list[dict] = ()) -> tuple[str, list[int]]:
    """A document of the cast's owner, shared with its editor, with crafted versions (see craft_versions).

    Returns (document id, version ids).
    """
    spec = json.dumps(list(versions))
    document, ids = server.django(
        "from datetime import datetime, timedelta\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.utils import timezone\n"
        "from pycrdt import Doc, XmlElement, XmlFragment, XmlText\n"
        "from documents.models import Snapshot\n"
        "from documents.services import document_create, membership_set\n"
        "User = get_user_model()\n"
        f"document = document_create(owner=User.objects.get(username={cast.owner!r}), title={title!r})\n"
        f"membership_set(document=document, user=User.objects.get(username={cast.editor!r}), role='editor')\n"
        "now = timezone.now()\n"
        "ids = []\n"
        f"for v in json.loads({spec!r}):\n"
        "    doc = Doc()\n"
        "    fragment = doc.get('default', type=XmlFragment)\n"
        "    fragment.children.append(XmlElement('paragraph', contents=[XmlText(v.get('text', 'x'))]))\n"
        "    at = datetime.fromisoformat(v['at']) if 'at' in v else now - timedelta(seconds=v['age'])\n"
        "    state = doc.get_update()\n"
        "    ids.append(Snapshot.objects.create(document=document, created_at=at, state=state,\n"
        "        state_vector=doc.get_state(), size=len(state), authors=v.get('authors', []),\n"
        "        preview=v.get('text', 'x')[:200], label=v.get('label', ''), kind=v.get('kind', 'auto')).pk)\n"
        "result = [str(document.pk), ids]\n"
    )
    return document, ids


def unique_prefix() -> str:
    """A name prefix for users made once per module (the function-scoped `unique` cannot serve there)."""
    return f"h{os.getpid()}x{uuid.uuid4().hex[:6]}"


_casts: dict[str, Cast] = {}


def cast_of(server) -> Cast:
    """The cast of a (session-long) server, made on first use and shared by the test modules.

    Tests only read the cast's users, so sharing them is safe; it saves a
    process start per module and backend.
    """
    if server.url not in _casts:
        _casts[server.url] = make_cast(server, unique_prefix())
    return _casts[server.url]


def signed_in(server, username: str) -> AdminSession:
    session = AdminSession(server.url)
    assert session.login(username, Cast.password(username)), f"expected {username} to be let into the admin"
    return session

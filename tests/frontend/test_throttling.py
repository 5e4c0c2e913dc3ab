"""Throttling of the pages, against a real Daphne: sign-in (the product's and the admin's), the
forms that create and share, and a home page that stays small however much is shared with you."""

import re
import urllib.parse

import pytest

from tests.api.client import ApiClient, Reply, SessionClient


class Browser(ApiClient):
    """Cookies and the CSRF token of a visitor who is not signed in (yet)."""

    def form_token(self, path: str) -> str:
        page = self.get(path)
        assert page.status == 200, f"{path}: {page.status}"
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def submit(self, path: str, fields: dict, token: str) -> Reply:
        return self.request(
            "POST", path, body=urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": self.base_url + path},
        )


def signed_in(reply: Reply) -> bool:
    return reply.status == 302


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/?next=/admin/"])
def test_200_wrong_passwords_lock_the_account_for_that_address(daphne_server, unique, path):
    victim, neighbour = f"{unique}victim", f"{unique}neighbour"
    daphne_server.django(
        "from django.contrib.auth import get_user_model\n"
        f"for name in ({victim!r}, {neighbour!r}):\n"
        "    get_user_model().objects.create_user(name, password=name + '-password', is_staff=True)\n"
    )
    attacker = Browser(daphne_server.url)
    token = attacker.form_token(path)
    for attempt in range(200):
        reply = attacker.submit(path, {"username": victim, "password": f"guess-{attempt}"}, token)
        assert not signed_in(reply)
    statuses = {reply.status}
    assert statuses == {429}, statuses

    right = attacker.submit(path, {"username": victim, "password": f"{victim}-password"}, token)
    assert right.status == 429, "the right password after 200 wrong ones must not sign in"
    assert "Too many failed sign-ins" in right.text and "15 minutes" in right.text
    assert int(right.headers["Retry-After"]) == 15 * 60
    assert "sessionid" not in {cookie.name for cookie in attacker.cookies}

    # Someone else signing in from the same address is not held up.
    neighbour_browser = Browser(daphne_server.url)
    reply = neighbour_browser.submit(
        path, {"username": neighbour, "password": f"{neighbour}-password"}, neighbour_browser.form_token(path)
    )
    assert signed_in(reply), reply.status


def test_a_few_wrong_passwords_then_the_right_one_signs_in(daphne_server, unique):
    """Only failures count, and below the limit they hold nobody up (each costs a password hash: few)."""
    name = f"{unique}forgetful"
    daphne_server.seed(users=[name])
    browser = Browser(daphne_server.url)
    token = browser.form_token("/accounts/login/")
    for attempt in range(3):
        assert browser.submit("/accounts/login/", {"username": name, "password": f"no-{attempt}"}, token).status == 200
    assert signed_in(browser.submit("/accounts/login/", {"username": name, "password": f"{name}-password"}, token))


@pytest.fixture
def limited_server(server_factory):
    return server_factory(env={"API_RATE_LIMIT": "20/min"}).start()


def test_a_form_flood_gets_429_pages_sharing_the_apis_budget(limited_server, unique):
    server = limited_server
    owner, friend = f"{unique}flooder", f"{unique}friend"
    seed = server.seed(users=[owner, friend], documents=[{"owner": owner, "title": "Shared"}])
    api = ApiClient(server.url, token=seed["tokens"][owner])
    browser = SessionClient(server.url, owner, f"{owner}-password")
    headers = {**browser.csrf_headers(), "Content-Type": "application/x-www-form-urlencoded"}

    for _ in range(10):
        assert api.get("/api/documents/").status == 200
    statuses = [browser.request("POST", "/documents/new/", body=b"title=flood", headers=headers).status
                for _ in range(15)]
    assert statuses == [302] * 10 + [429] * 5, statuses

    refused = browser.request("POST", "/documents/new/", body=b"title=flood", headers=headers)
    assert refused.status == 429 and "Too many requests" in refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    share_form = urllib.parse.urlencode({"action": "add", "username": friend, "role": "editor"}).encode()
    share = browser.request("POST", f"/documents/{seed['documents'][0]}/share/", body=share_form, headers=headers)
    assert share.status == 429
    # The API refuses the same user too: one budget.
    limited = api.get("/api/documents/")
    assert limited.status == 429 and limited.json()["detail"].startswith("Too many requests")
    assert api.status_line("GET", "/api/documents/") == (429, "Too Many Requests")
    created = server.django(
        "from documents.models import Document\n"
        f"result = Document.objects.filter(owner__username={owner!r}).count()"
    )
    assert created == 1 + 10
    # Browsing is not counted.
    assert browser.get("/").status == 200


def test_the_home_page_with_1000_documents_is_paginated(daphne_server, unique):
    victim, sharer = f"{unique}popular", f"{unique}spammer"
    daphne_server.seed(users=[victim, sharer])
    daphne_server.django(
        "from django.contrib.auth import get_user_model\n"
        "from documents.models import Document, Membership\n"
        "User = get_user_model()\n"
        f"sharer, victim = User.objects.get(username={sharer!r}), User.objects.get(username={victim!r})\n"
        "documents = Document.objects.bulk_create(\n"
        "    [Document(owner=sharer, title=f'Unsolicited {n:04d}') for n in range(1000)])\n"
        "Membership.objects.bulk_create([Membership(document=d, user=victim, role='viewer') for d in documents])\n"
    )
    browser = SessionClient(daphne_server.url, victim, f"{victim}-password")

    home = browser.get("/")
    assert home.status == 200
    rows = home.text.count('data-testid="document-row"')
    assert rows == 50, rows
    assert len(home.body) < 150_000, f"{len(home.body)} bytes"
    assert 'href="?page=2"' in home.text and 'href="?page=20"' in home.text and "1–50 of 1000" in home.text

    last = browser.get("/", page=20)
    assert last.text.count('data-testid="document-row"') == 50 and "951–1000 of 1000" in last.text
    titles = set(re.findall(r"Unsolicited \d{4}", home.text + last.text))
    assert len(titles) == 100, "pages do not overlap"
    assert browser.get("/", page="999").status == 200 and browser.get("/", page="x").status == 200

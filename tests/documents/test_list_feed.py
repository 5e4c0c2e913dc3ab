"""The user's feed (/ws/feed/, collab.feed + documents.list_feed): told within a second what changed for
their document list, on a live server, on both set-ups; and across two processes with Redis."""

import asyncio
import json
import time

import pytest
import websockets

from collab import codes
from tests.api.client import ApiClient, SessionClient
from tests.support.server import Database, LiveServer, ServiceMissing, require_redis
from tests.support.services import missing

# What the issue asks of a list: a change shows within a second.
LIVE = 1.0


class Feed:
    """A feed socket of one user (a bearer token, as a script would listen)."""

    def __init__(self, ws):
        self.ws = ws

    @classmethod
    async def open(cls, server, token: str) -> "Feed":
        ws = await websockets.connect(f"{server.ws_url}/ws/feed/",
                                      additional_headers={"Authorization": f"Bearer {token}"})
        feed = cls(ws)
        assert await feed.next() == {"kind": "ready"}
        return feed

    async def next(self, timeout: float = 10.0) -> dict:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def expect(self, kind: str, document: str, since: float, within: float = LIVE) -> None:
        """The event arrives within `within` seconds of `since` (other kinds before it are skipped)."""
        while True:
            event = await self.next(timeout=max(0.05, since + within - time.monotonic()))
            if event == {"kind": kind, "document": document}:
                return
            assert event.get("document") == document or event["kind"] != kind, event

    async def close(self) -> None:
        await self.ws.close()


def seeded(server, prefix):
    names = [f"{prefix}ann", f"{prefix}ben", f"{prefix}cat"]
    seed = server.seed(users=names, documents=[{"owner": names[0], "title": "Plan", "roles": {names[1]: "editor"}}])
    return names, seed


async def test_a_list_is_told_of_renames_shares_removals_creations_deletions_and_edits(daphne_server, unique):
    (ann, ben, cat), seed = seeded(daphne_server, unique)
    doc = seed["documents"][0]
    owner = ApiClient(daphne_server.url, token=seed["tokens"][ann])
    anns, bens, cats = [await Feed.open(daphne_server, seed["tokens"][name]) for name in (ann, ben, cat)]

    started = time.monotonic()
    assert (await asyncio.to_thread(owner.patch, f"/api/documents/{doc}/", {"title": "Plan B"})).status == 200
    await bens.expect("renamed", doc, started)
    await anns.expect("renamed", doc, started)

    # Shared and unshared through the owner's share dialog.
    web = await asyncio.to_thread(SessionClient, daphne_server.url, ann, f"{ann}-password")
    share = f"/documents/{doc}/share/"
    started = time.monotonic()
    reply = await asyncio.to_thread(web.post, share, f"action=add&username={cat}&role=viewer".encode(),
                                    headers={**web.csrf_headers(), "Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 302
    await cats.expect("shared", doc, started)
    cat_id = daphne_server.django(
        f"from django.contrib.auth import get_user_model\nresult = get_user_model().objects.get(username='{cat}').pk")
    started = time.monotonic()
    reply = await asyncio.to_thread(web.post, share, f"user_id={cat_id}&role=".encode(),
                                    headers={**web.csrf_headers(), "Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 302
    await cats.expect("unshared", doc, started)

    # Text written: told once search has the new words (SEARCH_INDEX_DELAY, 5 s, after the save).
    written = await asyncio.to_thread(owner.request, "PUT", f"/api/documents/{doc}/content", body=b"new words",
                                      headers={"Content-Type": "text/plain"})
    assert written.status == 200, written.text
    await bens.expect("edited", doc, time.monotonic(), within=15)

    started = time.monotonic()
    made = await asyncio.to_thread(owner.post, "/api/documents/", {"title": "Another"})
    await anns.expect("created", made.json()["id"], started)

    started = time.monotonic()
    assert (await asyncio.to_thread(owner.delete, f"/api/documents/{doc}/")).status == 204
    await bens.expect("unshared", doc, started)
    await anns.expect("deleted", doc, started)

    # Cat was told nothing of a document she no longer has.
    with pytest.raises(TimeoutError):
        await cats.next(timeout=0.3)
    for feed in (anns, bens, cats):
        await feed.close()


async def test_a_feed_needs_a_signed_in_user_and_closes_when_the_token_is_revoked(daphne_server, unique):
    (ann, _ben, _cat), seed = seeded(daphne_server, unique)
    async with websockets.connect(f"{daphne_server.ws_url}/ws/feed/") as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd.code == codes.NOT_SIGNED_IN
    feed = await Feed.open(daphne_server, seed["tokens"][ann])
    daphne_server.django(
        "from documents.models import ApiToken\nfrom documents.services import token_revoke\n"
        f"[token_revoke(token=t) for t in ApiToken.objects.filter(user__username='{ann}')]")
    # A change made by another process (this script) reaches the embedded server at its periodic re-check.
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await feed.next(timeout=15)
    assert closed.value.rcvd.code == codes.NOT_SIGNED_IN


@pytest.fixture
def two_processes():
    """Two Daphne processes on one PostgreSQL database and Redis, as in production."""
    try:
        require_redis()
        database = Database("postgres")
    except ServiceMissing as exc:
        missing(str(exc))
    servers = [LiveServer(database, redis=True).start() for _ in range(2)]
    yield servers
    for server in servers:
        server.kill()
    database.drop()


@pytest.fixture
def two_deployments():
    """Two deployments (a database each, e.g. staging and production) sharing one Redis, each with its
    own CACHE_KEY_PREFIX as the README asks (tests/support/server.py gives each test database one)."""
    try:
        require_redis()
        databases = [Database("sqlite"), Database("sqlite")]
    except ServiceMissing as exc:
        missing(str(exc))
    servers = [LiveServer(database, redis=True).start() for database in databases]
    yield servers
    for server in servers:
        server.kill()
    for database in databases:
        database.drop()


async def test_deployments_sharing_one_redis_do_not_hear_each_others_changes(two_deployments):
    # User ids repeat from one database to another: without a prefix of its own, a deployment's
    # feeds heard the other's changes for "their" ids (its document ids included), and its open
    # sockets would re-check access on the other's access changes.
    staging, production = two_deployments
    here = staging.seed(users=["stan"], documents=[])  # the first user of each database: the same id
    stan = await Feed.open(staging, here["tokens"]["stan"])
    elsewhere = production.seed(users=["paula"], documents=[{"owner": "paula", "title": "Theirs"}])
    started = time.monotonic()
    mine = ApiClient(staging.url, token=here["tokens"]["stan"])
    created = await asyncio.to_thread(mine.post, "/api/documents/", {"title": "Mine"})
    assert created.status == 201
    # Told through Redis in order: production's "created" would have come first.
    event = await stan.next()
    assert event == {"kind": "created", "document": created.json()["id"]}, (
        f"heard {event}; production's document was {elsewhere['documents'][0]}")
    assert time.monotonic() - started < LIVE + 2
    await stan.close()


async def test_a_change_made_through_one_process_reaches_a_feed_on_another(two_processes, unique):
    first, second = two_processes
    (ann, ben, cat), seed = seeded(first, unique)
    doc = seed["documents"][0]
    bens, cats = await Feed.open(first, seed["tokens"][ben]), await Feed.open(first, seed["tokens"][cat])
    owner = ApiClient(second.url, token=seed["tokens"][ann])
    started = time.monotonic()
    assert (await asyncio.to_thread(owner.patch, f"/api/documents/{doc}/", {"title": "Elsewhere"})).status == 200
    await bens.expect("renamed", doc, started)
    # A change made by a script on the database (its own process) is told through Redis too.
    started = time.monotonic()
    await asyncio.to_thread(
        first.django, "from django.contrib.auth import get_user_model\nfrom documents.models import Document\n"
        "from documents.services import membership_set\n"
        f"membership_set(document=Document.objects.get(pk='{doc}'), "
        f"user=get_user_model().objects.get(username='{cat}'), role='viewer')")
    await cats.expect("shared", doc, started, within=LIVE + 3)  # the script starts Django first
    await bens.close()
    await cats.close()

"""What a connect costs the database (issue 13 item 4): one query for a token, none for a repeat.

Sockets connect in this process through the real ASGI application (auth
middleware, consumer, registry, actor, store). The test body is sync and runs
the sockets with async_to_sync: the consumer's database lookups
(database_sync_to_async, thread-sensitive) then run in the test's own thread,
where CaptureQueriesContext sees them. Document loads run in the store's
threads and are not counted; the document is opened before counting anyway.
"""

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collab import codes, protocol
from collab.access import Admission, AdmissionCache
from collab.auth import Credentials
from collab.registry import get_registry

pytestmark = pytest.mark.django_db(transaction=True)


def seed():
    from django.contrib.auth import get_user_model

    from documents.models import ApiToken
    from documents.services import document_create, membership_set, token_create

    User = get_user_model()
    owner = User.objects.create_user("owner", password="owner-password-1")
    editor = User.objects.create_user("editor", password="editor-password-1")
    doc = document_create(owner=owner, title="connect cost")
    membership_set(document=doc, user=editor, role="editor")
    owner_token, owner_raw = token_create(user=owner, name="t")
    editor_token, editor_raw = token_create(user=editor, name="t")
    # Used within the last minute, as a reconnecting client's token is: its last-use time is not rewritten.
    ApiToken.objects.update(last_used_at=timezone.now())
    return {"doc": doc, "editor": editor, "owner_raw": owner_raw, "editor_raw": editor_raw,
            "editor_token": editor_token}


async def connect(doc, raw: str) -> tuple[WebsocketCommunicator, int | None]:
    """A socket with a bearer token: (it, None) once synced, or (it, close code) if the server closed it."""
    from editor.asgi import application

    socket = WebsocketCommunicator(application, f"/ws/documents/{doc.pk}/",
                                   headers=[(b"authorization", f"Bearer {raw}".encode())])
    connected, _ = await socket.connect(timeout=10)
    assert connected
    await socket.send_to(bytes_data=protocol.encode_sync_step1(b"\x00"))
    return socket, await synced_or_closed(socket)


async def synced_or_closed(socket: WebsocketCommunicator) -> int | None:
    while True:
        output = await socket.receive_output(timeout=10)
        if output["type"] == "websocket.close":
            return output["code"]
        if isinstance(protocol.decode(output["bytes"]), protocol.SyncStep2):
            return None


async def close_all(*sockets: WebsocketCommunicator) -> None:
    for socket in sockets:
        await socket.disconnect()
    await (await get_registry()).stop_all()


def counting():
    """Queries run in this thread from here on (the consumer's lookups run here: see the module's docstring)."""
    return CaptureQueriesContext(connections["default"])


def sql(queries, since: int) -> str:
    return "\n".join(q["sql"] for q in queries.captured_queries[since:])


def test_a_token_connect_costs_one_query_and_a_repeat_none():
    w = seed()

    async def scenario(queries):
        opened, code = await connect(w["doc"], w["owner_raw"])  # loads the document (not counted below)
        assert code is None
        before = len(queries)
        first, code = await connect(w["doc"], w["editor_raw"])
        assert code is None
        assert len(queries) - before <= 1, f"a token connect took {len(queries) - before} queries:\n" + sql(queries, before)
        before = len(queries)
        again, code = await connect(w["doc"], w["editor_raw"])
        assert code is None
        assert len(queries) == before, "a repeat within the cache's lifetime queried:\n" + sql(queries, before)
        await close_all(opened, first, again)

    with counting() as queries:
        async_to_sync(scenario)(queries)


def test_clients_connecting_together_with_the_same_token_share_one_lookup():
    # A reconnect storm: a script's many workers (or a person's tabs) come back at once.
    w = seed()

    async def scenario(queries):
        opened, _ = await connect(w["doc"], w["owner_raw"])
        before = len(queries)
        results = await asyncio.gather(*(connect(w["doc"], w["editor_raw"]) for _ in range(10)))
        assert [code for _, code in results] == [None] * 10
        assert len(queries) - before <= 1, f"10 connects took {len(queries) - before} queries:\n" + sql(queries, before)
        await close_all(opened, *(socket for socket, _ in results))

    with counting() as queries:
        async_to_sync(scenario)(queries)


def test_an_access_change_drops_the_cached_answer():
    from documents.services import membership_set

    w = seed()

    async def scenario():
        opened, _ = await connect(w["doc"], w["owner_raw"])
        socket, code = await connect(w["doc"], w["editor_raw"])  # the editor's answer is now cached
        assert code is None
        # The role removed through the domain (its signal reaches the engine); the open socket closes...
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: membership_set(document=w["doc"], user=w["editor"], role=None))
        assert await synced_or_closed(socket) == codes.NO_ACCESS
        # ...and a new connect is not let in on the cached answer.
        again, code = await connect(w["doc"], w["editor_raw"])
        assert code == codes.NO_ACCESS
        await close_all(opened, socket, again)

    async_to_sync(scenario)()


def test_a_change_no_signal_reports_is_seen_once_the_cached_answer_expires(settings):
    # Bulk SQL sends no signal (nor does another process in the embedded set-up): the cache's lifetime bounds it.
    from documents.models import ApiToken

    settings.COLLAB = {**settings.COLLAB, "ACCESS_CACHE_TTL": 0.5}
    w = seed()

    async def scenario():
        opened, _ = await connect(w["doc"], w["owner_raw"])
        socket, code = await connect(w["doc"], w["editor_raw"])
        assert code is None
        await socket.disconnect()
        revoked_at = time.monotonic()
        await ApiToken.objects.filter(pk=w["editor_token"].pk).aupdate(revoked_at=timezone.now())
        codes_seen = []
        while True:
            again, code = await connect(w["doc"], w["editor_raw"])
            codes_seen.append(code)
            await again.disconnect()
            if code is not None:
                break
            assert time.monotonic() - revoked_at < 0.5 + 2, f"still admitted long after the cache's lifetime: {codes_seen}"
        assert code == codes.NOT_SIGNED_IN
        await close_all(opened)

    async_to_sync(scenario)()


def test_the_cache_keeps_admissions_for_its_lifetime_and_never_keeps_refusals():
    from django.contrib.auth import get_user_model

    user = get_user_model()(pk=7, username="someone")
    cache = AdmissionCache(ttl=0.2)
    key = cache.key(Credentials(token="t0k3n"), "doc")
    assert key[0] != b"t0k3n" and b"t0k3n" not in key[0]  # the secret itself is not kept
    cache.put(key, Admission(user, True, "editor", True, token_id=1), cache.generation)
    assert cache.get(key).role == "editor"
    time.sleep(0.25)  # the lifetime is the thing under test
    assert cache.get(key) is None and len(cache) == 0
    cache.put(key, Admission(user, True, None, False, token_id=1), cache.generation)  # no role: refused
    assert cache.get(key) is None
    stale = cache.generation
    cache.forget_user(99)  # any change while a lookup was under way...
    cache.put(key, Admission(user, True, "editor", True, token_id=1), stale)  # ...keeps its answer out
    assert cache.get(key) is None
    cache.put(key, Admission(user, True, "editor", True, token_id=1), cache.generation)
    cache.forget_user(7)
    assert cache.get(key) is None

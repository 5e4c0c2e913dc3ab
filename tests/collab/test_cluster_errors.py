"""Errors across processes keep their type; cluster retry loops give up within a bound.

The wire codec is tested on its own (through msgpack, as channels-redis sends
it); the rest runs two cluster members (two registries) in this process on the
real Redis and channels-redis layer, sharing one in-memory store.
"""

import asyncio
import contextlib
import logging
import time
import uuid

from urllib.parse import urlsplit

import msgpack
import pytest
from channels_redis.core import RedisChannelLayer
from pycrdt import Doc, Text
from redis.asyncio import Redis
from redis.exceptions import RedisError

from collab import cluster as cluster_module, codes, protocol
from collab.cluster import (
    ACQUIRE_TIMEOUT,
    ERRORS,
    Cluster,
    NotOwner,
    RemoteError,
    decode_error,
    encode_error,
)
from collab.config import CollabConfig
from collab.messages import ActorStopped, ApplyUpdate, Flush, GetState, StateChanged, Unavailable
from collab.registry import Registry
from collab.store import DocumentGone, MemoryStore, StaleOwner
from tests.support.crdt import text_update
from tests.support.tcpproxy import TcpProxy
from tests.support.server import REDIS_TEST_URL, ServiceMissing, free_port, require_redis
from tests.support.services import missing

CONFIG = CollabConfig(flush_delay=0.01, flush_max_wait=0.05, snapshot_interval=60, idle_timeout=30)

# One instance of every class that may travel, as the code raises them.
SAMPLES = [
    ActorStopped("actor of 1234 is stopped"),
    Unavailable("document 1234 is unavailable: its actor stopped each time it was asked; try again later"),
    DocumentGone(uuid.UUID(int=7)),
    StaleOwner("1234"),
    NotOwner("specific.abc!def"),
    protocol.ProtocolError("truncated varint"),
    ValueError("invalid update"),
    TypeError("expected bytes"),
    StateChanged("document 1234 changed since the change was computed"),
]


def over_the_wire(exc: BaseException) -> Exception:
    """What the asking process raises for `exc` raised on the owner."""
    return decode_error(msgpack.unpackb(msgpack.packb(encode_error(exc))))


def test_every_allowed_error_type_has_a_sample():
    assert {type(sample) for sample in SAMPLES} == set(ERRORS.values())


@pytest.mark.parametrize("error", SAMPLES, ids=lambda e: type(e).__name__)
def test_an_allowed_error_arrives_as_the_same_class(error):
    received = over_the_wire(error)
    assert type(received) is type(error)
    assert str(received) == str(error)
    if isinstance(error, NotOwner):
        assert received.owner_channel == error.owner_channel


@pytest.mark.parametrize("error", [KeyError("missing"), RuntimeError("boom"), SystemExit(3)],
                         ids=lambda e: type(e).__name__)
def test_any_other_error_arrives_as_remote_error_naming_it(error):
    received = over_the_wire(error)
    assert type(received) is RemoteError
    assert received.type_name == type(error).__name__
    assert str(error) in str(received) and type(error).__name__ in str(received)


def test_a_forged_type_name_is_never_looked_up_outside_the_allow_list():
    received = decode_error({"type": "os.system", "args": ["echo hacked"], "message": "x"})
    assert type(received) is RemoteError and received.type_name == "os.system"


# --- two cluster members in this process ----------------------------------------------------


@pytest.fixture
async def members():
    """Two registries sharing one store, Redis and channel layer, like two processes."""
    try:
        require_redis()
    except ServiceMissing as exc:
        missing(str(exc))
    store = MemoryStore()
    made = []

    async def make(redis_url=REDIS_TEST_URL):
        layer = RedisChannelLayer(hosts=[{"address": redis_url, "socket_timeout": None}])
        cluster = Cluster(redis_url, layer, lease_ttl=5)
        registry = Registry(store, CONFIG, cluster)
        await cluster.start(registry)
        made.append(registry)
        return registry

    owner, other = await make(), await make()
    yield store, owner, other, make
    for registry in made:
        with contextlib.suppress(RedisError, OSError):  # a member a test cut off cannot clean up
            await registry.stop_all()
            await registry.cluster.layer.flush()
        await registry.cluster.redis.aclose()


async def open_on(registry: Registry, store: MemoryStore) -> uuid.UUID:
    document_id = uuid.uuid4()
    store.documents.add(document_id)
    await registry.ask(document_id, ApplyUpdate(update=text_update("hello")))
    return document_id


async def test_a_request_through_another_process_is_answered_by_the_owner(members):
    store, owner, other, _ = members
    document_id = await open_on(owner, store)
    state, _ = await other.ask(document_id, GetState())
    assert other.get_running(document_id) is None, "the other process must forward, not open its own actor"
    doc = Doc()
    doc.apply_update(state)
    assert str(doc.get("t", type=Text)) == "hello"


async def flush_after_deletion(asker: Registry, store: MemoryStore, document_id) -> None:
    """Delete the document while its actor runs, then edit it through `asker` and wait for the save."""
    store.documents.discard(document_id)
    await asker.ask(document_id, ApplyUpdate(update=text_update("after delete")))
    await asyncio.wait_for(asker.ask(document_id, Flush()), 15)


async def test_a_deleted_document_is_document_gone_through_another_process_as_on_the_owner(members):
    store, owner, other, _ = members
    with pytest.raises(DocumentGone):
        await flush_after_deletion(owner, store, await open_on(owner, store))
    with pytest.raises(DocumentGone):
        await flush_after_deletion(other, store, await open_on(owner, store))


async def test_an_invalid_update_is_the_same_validation_error_through_another_process(members):
    store, owner, other, _ = members
    document_id = await open_on(owner, store)
    with pytest.raises(ValueError) as local:
        await owner.ask(document_id, ApplyUpdate(update=b"\xff\x00garbage"))
    with pytest.raises(ValueError) as remote:
        await other.ask(document_id, ApplyUpdate(update=b"\xff\x00garbage"))
    assert type(remote.value) is type(local.value)


async def test_an_owner_that_does_not_answer_is_unavailable_within_the_bound(members):
    store, owner, other, _ = members
    document_id = await open_on(owner, store)
    owner.cluster._tasks[0].cancel()  # the owner stops reading its channel (a hung process)
    started = time.monotonic()
    with pytest.raises(Unavailable):
        await other.cluster.ask_remote(owner.cluster.channel, document_id, GetState(), timeout=1)
    assert time.monotonic() - started < 3


async def test_acquire_fails_within_its_bound_when_redis_is_down(caplog):
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    cluster = Cluster(closed, layer=None, lease_ttl=5)
    cluster.channel = "test.channel"
    caplog.set_level(logging.ERROR, logger="collab.cluster")
    for _ in range(2):
        started = time.monotonic()
        with pytest.raises(Unavailable, match="Redis"):
            await cluster.acquire(uuid.uuid4())
        assert time.monotonic() - started < ACQUIRE_TIMEOUT + 1
    outage_logs = [r for r in caplog.records if "Redis" in r.getMessage()]
    assert len(outage_logs) == 1, "an outage is logged once, not once per attempt"
    await cluster.redis.aclose()


class ClosingSubscriber:
    def __init__(self):
        self.sid = uuid.uuid4().hex
        self.username = "ann"
        self.can_write = True
        self.closed = asyncio.get_running_loop().create_future()

    def send(self, frame):
        pass

    def close(self, code, reason=""):
        if not self.closed.done():
            self.closed.set_result(code)


async def test_an_owner_that_loses_redis_stops_serving_after_the_lease_ttl(members, caplog):
    store, owner, other, _ = members
    document_id = uuid.uuid4()
    store.documents.add(document_id)
    subscriber = ClosingSubscriber()
    await owner.join(document_id, subscriber)
    assert document_id in {uuid.UUID(key) for key in owner.cluster.leases}
    caplog.set_level(logging.ERROR, logger="collab.cluster")
    owner.cluster.lease_ttl = 2  # the bound: past it, our lease may have expired and be someone else's
    healthy = owner.cluster.redis
    owner.cluster.redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")  # Redis gone for this process
    started = time.monotonic()
    code = await asyncio.wait_for(subscriber.closed, 15)
    assert code == codes.INTERNAL_ERROR, "its clients reconnect (to whoever owns the document next)"
    assert time.monotonic() - started < 2 + 3
    assert len([r for r in caplog.records if "upkeep" in r.getMessage()]) == 1, "logged once, not every second"
    await owner.cluster.redis.aclose()
    owner.cluster.redis = healthy



async def test_a_process_cut_off_from_the_channel_layer_fails_its_waiting_requests(members, monkeypatch, caplog):
    store, owner, _, make = members
    document_id = await open_on(owner, store)
    owner.cluster._tasks[0].cancel()  # the owner will not answer: the request waits on our channel
    url = urlsplit(REDIS_TEST_URL)
    proxy = await TcpProxy(url.hostname, url.port).start()
    cut_off = await make(f"redis://127.0.0.1:{proxy.port}{url.path}")
    monkeypatch.setattr(cluster_module, "RECEIVE_OUTAGE_LIMIT", 1.0)
    caplog.set_level(logging.ERROR, logger="collab.cluster")
    sent = asyncio.Event()
    layer_send = cut_off.cluster.layer.send

    async def send_and_tell(channel, message):
        await layer_send(channel, message)
        sent.set()
    monkeypatch.setattr(cut_off.cluster.layer, "send", send_and_tell)
    asking = asyncio.create_task(cut_off.cluster.ask_remote(owner.cluster.channel, document_id, GetState(),
                                                            timeout=60))
    await asyncio.wait_for(sent.wait(), 10)  # the request is out: it now waits for a reply on our channel
    started = time.monotonic()
    proxy.disconnect()
    with pytest.raises(Unavailable, match="lost contact"):
        await asyncio.wait_for(asking, 10)
    assert time.monotonic() - started < 1.0 + 3, "failed at the bound, not at the request's own timeout"
    receiving = [r for r in caplog.records if "receiving" in r.getMessage()]
    assert len(receiving) == 1, "the outage is logged once, not once per retry"
    await proxy.close()


async def test_a_lease_this_process_still_holds_from_a_stopped_actor_is_taken_back_not_forwarded_to(members):
    # An actor stopped and its lease's release has not run yet when the next client opens the document:
    # forwarding that client to this same process would close it with 4011 once the release lands.
    _, owner, other, _ = members
    key = str(uuid.uuid4())
    stale = await owner.cluster.acquire(key)  # what the stopped actor held
    lease = await owner.cluster.acquire(key)
    assert lease.token > stale.token, "a new lease, fenced above the stopped actor's"
    assert await owner.cluster.lease_value(key) == lease.value
    with pytest.raises(NotOwner) as elsewhere:
        await other.cluster.acquire(key)  # another process is still told who owns it
    assert elsewhere.value.owner_channel == owner.cluster.channel
    await owner.cluster.release(stale)  # the late release of the stopped actor's lease changes nothing
    assert await owner.cluster.lease_value(key) == lease.value
    await owner.cluster.release(lease)

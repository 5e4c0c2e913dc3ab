"""Fixtures of the engine's tests."""

import contextlib
import signal
import uuid

import pytest
from channels_redis.core import RedisChannelLayer
from redis.exceptions import RedisError

from collab.cluster import Cluster
from collab.config import CollabConfig
from collab.registry import Registry
from collab.store import MemoryStore
from tests.support.server import REDIS_TEST_URL, Database, LiveServer, ServiceMissing, require_redis
from tests.support.services import missing


@pytest.fixture
def cluster():
    """`cluster(count=3, **env)` starts `count` more Daphne processes sharing one PostgreSQL database and
    Redis (a 2 s lease, so takeovers are quick); returns every process started so far. All are killed after."""
    try:
        require_redis()
        database = Database("postgres")
    except ServiceMissing as exc:
        missing(str(exc))
    servers = []

    def start(count=3, **env):
        for _ in range(count):
            servers.append(LiveServer(database, redis=True, env={"COLLAB_LEASE_TTL": "2", **env}).start())
        return servers

    yield start
    for server in servers:
        if server.process and server.process.poll() is None:
            server.process.send_signal(signal.SIGCONT)  # a test may leave one paused
        server.kill()
    database.drop()


# An in-process registry over a MemoryStore, with quick flushes and idle stops.
ACTOR_CONFIG = CollabConfig(flush_delay=0.01, flush_max_wait=0.05, snapshot_interval=60, idle_timeout=0.1)


@pytest.fixture
def document_id():
    return uuid.uuid4()


@pytest.fixture
def store(document_id):
    return MemoryStore([document_id])


@pytest.fixture
def registry(store):
    return Registry(store, ACTOR_CONFIG)


@pytest.fixture
async def cluster_member():
    """`await cluster_member(config, ttl)`: an in-process registry over a MemoryStore that is a member of a
    real cluster (real Redis, real channels-redis layer), its leases `ttl` seconds long. Stopped after."""
    try:
        require_redis()
    except ServiceMissing as exc:
        missing(str(exc))
    started = []

    async def start(config: CollabConfig, ttl: float) -> Registry:
        layer = RedisChannelLayer(hosts=[{"address": REDIS_TEST_URL, "socket_timeout": None}])
        cluster = Cluster(REDIS_TEST_URL, layer, lease_ttl=ttl)
        store = MemoryStore()
        registry = Registry(store, config, cluster)
        registry.documents = store.documents
        await cluster.start(registry)
        started.append((registry, layer, cluster))
        return registry

    yield start
    for registry, layer, cluster in started:
        with contextlib.suppress(RedisError, OSError):
            await registry.stop_all()
            await layer.flush()
        await cluster.redis.aclose()

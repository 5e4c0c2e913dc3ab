"""Nudges for open document lists (collab.live.tell_users) reach every process, however many at once.

The search indexer tells open lists of every document it indexed, one call per document, from its
thread; after a burst of edits (bench scale-out: 400 documents typed in at once) that was hundreds of
channel-layer sends in flight together, and redis-py's pool refused those beyond its 100th connection
(MaxConnectionsError, "could not tell users ..." in the log): those lists missed the change.
Real Redis, the real channels-redis layer, as a process of a cluster uses them.
"""

import asyncio

import pytest
from channels.layers import get_channel_layer

from collab import live, registry
from collab.cluster import ACCESS_GROUP
from tests.support.server import REDIS_TEST_URL, ServiceMissing, require_redis
from tests.support.services import missing

BURST = 300


@pytest.fixture
async def clustered(settings, monkeypatch):
    try:
        require_redis()
    except ServiceMissing as exc:
        missing(str(exc))
    settings.COLLAB = {**settings.COLLAB, "REDIS_URL": REDIS_TEST_URL}
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {
        "hosts": [{"address": REDIS_TEST_URL, "socket_timeout": None}], "prefix": "test-nudges"}}}
    # This loop serves, as a Daphne process's does (where its channel-layer connections live).
    monkeypatch.setattr(registry, "_registry_loop", asyncio.get_running_loop())


async def test_a_burst_of_nudges_from_the_indexer_thread_reaches_the_other_processes(clustered, caplog):
    layer = get_channel_layer()
    other_process = await layer.new_channel()
    await layer.group_add(ACCESS_GROUP, other_process)
    try:
        def indexer():  # one call per document indexed, in turn, from the indexer's thread
            for n in range(BURST):
                live.tell_users([n + 1], {"kind": "edited", "document": f"doc-{n}"})

        await asyncio.to_thread(indexer)
        heard = set()
        async with asyncio.timeout(20):
            while len(heard) < BURST:
                message = await layer.receive(other_process)
                heard.add(message["event"]["document"])
        assert "could not tell users" not in caplog.text
    finally:
        await layer.group_discard(ACCESS_GROUP, other_process)
        await layer.flush()

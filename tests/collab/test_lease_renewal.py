"""A process whose event loop is busy keeps its documents: lease renewal does not wait for the loop.

Under overload (bench scale-out on 2 cores) an event loop can be stuck in heavy work for seconds;
renewals that had to wait for it let leases expire and another process took the documents over
(302 takeovers between 2 processes). Here the loop of a real cluster member (real Redis, real
channels-redis layer) is stalled with time.sleep, as heavy work would stall it.
"""

import asyncio
import time
import uuid

import pytest

from collab.cluster import LEASE_KEY
from collab.config import CollabConfig

CONFIG = CollabConfig(flush_delay=0.01, flush_max_wait=0.05, snapshot_interval=60, idle_timeout=60)
TTL = 2.0
DOCUMENTS = 200


@pytest.fixture
async def member(cluster_member):
    return await cluster_member(CONFIG, TTL)


async def busy(seconds: float, each: float = 0.02) -> None:
    """Keep the loop busy for `seconds`: every turn of this task blocks it for `each` (heavy messages)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(each)
        await asyncio.sleep(0)


async def test_a_process_whose_loop_is_busy_or_stalls_for_less_than_the_ttl_keeps_its_leases(member):
    documents = [uuid.uuid4() for _ in range(DOCUMENTS)]
    member.documents.update(documents)
    actors = [await member.get(d) for d in documents]
    tokens = {str(d): member.cluster.leases[str(d)].value for d in documents}
    # A loop busy with heavy work for a while: a few other tasks each block it in turn.
    await asyncio.gather(*(busy(2 * TTL) for _ in range(5)))
    # Then one stall for most of a lease's lifetime.
    time.sleep(TTL * 0.9)
    await asyncio.sleep(0)
    values = await member.cluster.redis.mget([LEASE_KEY.format(d) for d in documents])
    assert [v.decode() if v else None for v in values] == [tokens[str(d)] for d in documents], "leases expired"
    await asyncio.sleep(0.2)  # the loop's own upkeep runs: nothing is found lost either
    assert all(a.state.value == "running" for a in actors)
    assert {str(d) for d in documents} <= set(member.cluster.leases)


async def test_a_process_opens_and_releases_hundreds_of_documents_at_once(member):
    # A cold start (bench scale-out: 1,200 editors of 400 documents connecting together) takes hundreds
    # of leases at the same moment, and a SIGTERM releases them all together. Each is a Redis call
    # in flight; redis-py's pool refused calls beyond its 100th connection (MaxConnectionsError):
    # editors were closed with 4011 at the start, and leases left unreleased at a stop made the
    # next process wait out their TTL.
    documents = [uuid.uuid4() for _ in range(3 * DOCUMENTS // 2)]
    member.documents.update(documents)
    actors = await asyncio.gather(*(member.get(d) for d in documents))
    assert all(a.state.value == "running" for a in actors)
    await member.stop_all()
    values = await member.cluster.redis.mget([LEASE_KEY.format(d) for d in documents])
    assert values == [None] * len(documents), "every lease released at the stop"

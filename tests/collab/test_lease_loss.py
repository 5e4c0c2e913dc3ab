"""A process that finds one of its leases lost tries once more to save what it holds, fenced, then lets go.

The lease says who serves a document; the store's fence says whose writes count. A process paused
(SIGSTOP, a long GC, a VM migration) past its lease's TTL wakes up holding edits it has not saved.
Dropping them relied on every client coming back to resend them; a client that has closed its tab
meanwhile never does. Written with the fence it held, they are kept if nobody has claimed the
document since, and refused (StaleOwner) if a newer owner has: either way the database stays right.
Before, which of the two happened depended on whether the loop's lease check ran before the actor's
flush timer (tests/collab/test_cluster.py's paused owner failed in CI that way).
"""

import asyncio
import uuid

from pycrdt import Doc, Text

from collab import codes, protocol
from collab.actor import State
from collab.cluster import LEASE_KEY
from collab.config import CollabConfig
from collab.messages import Incoming
from tests.support.actors import FakeSubscriber
from tests.support.crdt import text_update

# Flushes far away: the edit is still unsaved when the lease goes.
CONFIG = CollabConfig(flush_delay=60, flush_max_wait=60, snapshot_interval=600, idle_timeout=600)
TTL = 2.0


def stored_text(store, document_id) -> str:
    doc = Doc()
    for update in store.log.get(document_id, {}).values():
        doc.apply_update(update)
    return str(doc.get("t", type=Text))


async def holding_an_unsaved_edit(registry, text: str):
    document_id = uuid.uuid4()
    registry.documents.add(document_id)
    alice = FakeSubscriber("alice")
    actor = await registry.join(document_id, alice)
    await actor.tell(Incoming(alice, protocol.Update(text_update(text))))
    await alice.wait(lambda s: True)  # joined and answered
    assert actor.inspect()["unsaved_bytes"] > 0
    return document_id, actor, alice


async def test_an_owner_that_lost_its_lease_saves_its_unsaved_edit_if_nobody_claimed_the_document(cluster_member):
    registry = await cluster_member(CONFIG, TTL)
    document_id, actor, alice = await holding_an_unsaved_edit(registry, "typed before the pause")
    await registry.cluster.redis.delete(LEASE_KEY.format(document_id))  # expired while the process was paused
    await asyncio.wait_for(actor._done.wait(), 10)
    assert stored_text(registry.store, document_id) == "typed before the pause", "the edit must not be dropped"
    assert alice.closed_with == codes.INTERNAL_ERROR, "clients reconnect to whoever serves it next"
    assert actor.state is State.STOPPED
    assert str(document_id) not in registry.cluster.leases


async def test_an_owner_that_lost_its_lease_to_a_newer_owner_is_refused_by_the_fence(cluster_member):
    registry = await cluster_member(CONFIG, TTL)
    document_id, actor, alice = await holding_an_unsaved_edit(registry, "typed before the pause")
    store = registry.store
    store.fences[document_id] = actor._fence + 1  # the successor loaded the document with a newer fence
    await registry.cluster.redis.set(LEASE_KEY.format(document_id), f"elsewhere:{actor._fence + 1}")
    await asyncio.wait_for(actor._done.wait(), 10)
    assert store.writes == 0 and not store.log.get(document_id), "the stale owner's write is refused"
    assert alice.closed_with == codes.INTERNAL_ERROR
    assert actor.state is State.STOPPED

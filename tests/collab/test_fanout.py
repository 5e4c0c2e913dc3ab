"""The actor's fan-out: an update goes out at once, those already waiting behind it go with it.

In-process (no sockets): an actor from a Registry over an in-memory store, and
subscribers that record the frames they are sent.
"""

import asyncio
import uuid

from pycrdt import Doc, Text

from collab import protocol
from collab.config import CollabConfig
from collab.messages import Incoming
from collab.registry import Registry
from collab.store import MemoryStore
from tests.support.actors import FakeSubscriber


def typed(doc: Doc, text: str) -> bytes:
    before = doc.get_state()
    doc["t"].insert(len(str(doc["t"])), text)
    return doc.get_update(before)


async def joined(interval: float):
    document_id = uuid.uuid4()
    registry = Registry(MemoryStore([document_id]), CollabConfig(fanout_interval=interval, idle_timeout=5))
    alice, bob = FakeSubscriber("alice"), FakeSubscriber("bob")
    actor = await registry.join(document_id, alice)
    await registry.join(document_id, bob)
    return actor, alice, bob


def text_of(updates: list[bytes]) -> str:
    doc = Doc()
    doc["t"] = Text()
    for update in updates:
        doc.apply_update(update)
    return str(doc["t"])


async def test_updates_waiting_in_the_mailbox_go_out_together_in_one_frame():
    actor, alice, bob = await joined(interval=0)
    doc = Doc()
    doc["t"] = Text()
    for word in ["one ", "two ", "three ", "four"]:
        await actor.tell(Incoming(alice, protocol.Update(typed(doc, word))))  # all queued before the actor runs
    await bob.wait(lambda s: text_of(s.updates()) == "one two three four")
    assert len(bob.updates()) == 1, "what was already waiting is merged into one frame"
    assert alice.updates() == [], "nobody gets their own updates back"


async def test_an_update_alone_goes_out_at_once_and_the_next_one_too():
    actor, alice, bob = await joined(interval=0)
    doc = Doc()
    doc["t"] = Text()
    await actor.tell(Incoming(alice, protocol.Update(typed(doc, "first "))))
    await bob.wait(lambda s: len(s.updates()) == 1)
    await actor.tell(Incoming(alice, protocol.Update(typed(doc, "second"))))
    await bob.wait(lambda s: len(s.updates()) == 2)
    assert text_of(bob.updates()) == "first second"


async def test_with_an_interval_updates_close_behind_the_last_send_wait_for_it():
    actor, alice, bob = await joined(interval=0.2)
    doc = Doc()
    doc["t"] = Text()
    await actor.tell(Incoming(alice, protocol.Update(typed(doc, "first "))))
    await bob.wait(lambda s: len(s.updates()) == 1)
    await actor.tell(Incoming(alice, protocol.Update(typed(doc, "second "))))
    await actor.tell(Incoming(alice, protocol.Update(typed(doc, "third"))))
    await asyncio.sleep(0.05)
    assert len(bob.updates()) == 1, "within the interval nothing more is sent"
    await bob.wait(lambda s: len(s.updates()) == 2)
    assert text_of(bob.updates()) == "first second third"

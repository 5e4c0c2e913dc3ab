"""Named edits run inside the actor's turn and are stored as a version before they go live (collab.live.versioned_edit).

In-process: a real DocumentActor on the in-memory store, fake subscribers.
"""

import asyncio
import json

import pytest
from pycrdt import Doc, Text

from collab import edits, protocol
from collab.messages import Edit, Incoming, TakeSnapshot, Unavailable
from tests.support.actors import FakeSubscriber
from tests.support.crdt import text_update


def append_line(doc: Doc, line: str) -> int:
    """An edit that depends on the state it runs against: it adds `line` only if it is not there yet."""
    text = doc.get("t", type=Text)
    if line in str(text):
        return 0
    text.insert(len(text), line)
    return 1


edits.register("tests.append_line", append_line)


def edit(line: str, **kwargs) -> Edit:
    return Edit(change="tests.append_line", args=(line,), **kwargs)


def live_text(registry, document_id) -> str:
    actor = registry.get_running(document_id)
    return str(actor._doc.get("t", type=Text))


async def test_two_edits_at_once_each_see_the_state_the_other_left(registry, store, document_id):
    alice = FakeSubscriber("alice")
    actor = await registry.join(document_id, alice)
    await actor.tell(Incoming(alice, protocol.Update(text_update("start;"))))
    first, second = await asyncio.gather(actor.ask(edit("restored;", author="bob")),
                                         actor.ask(edit("restored;", author="carol")))
    assert sorted([first["result"], second["result"]]) == [0, 1], "the second edit ran against the first's result"
    assert live_text(registry, document_id) == "start;restored;", "no duplicate"
    stored = store.snapshots[document_id]
    assert [s.label for s in stored] == ["", ""] and len(stored) == 2, "each edit recorded as a version"
    loaded = Doc()
    for update in (await store.load(document_id)).updates:
        loaded.apply_update(update)
    assert str(loaded.get("t", type=Text)) == "start;restored;"


async def test_the_version_is_stored_before_the_change_goes_live_with_its_notice(registry, store, document_id):
    alice, bob = FakeSubscriber("alice"), FakeSubscriber("bob")
    actor = await registry.join(document_id, alice)
    await registry.join(document_id, bob)
    await actor.tell(Incoming(alice, protocol.Update(text_update("start;"))))
    notice = {"restored": {"by": "carol", "version": 7, "version_time": "2026-01-01T00:00:00Z", "at": "now"}}
    answer = await actor.ask(edit("restored;", author="carol", label="Restored", kind="restore", notice=notice))
    snapshot = store.snapshots[document_id][-1]
    assert answer == {"version": 1, "result": 1}
    assert (snapshot.label, snapshot.kind) == ("Restored", "restore")
    assert set(snapshot.authors) == {"alice", "carol"}, "the edit's author and who edited since the last version"
    await bob.wait(lambda s: "restored;" in _text_of(s.updates()))

    def server_entry(subscriber):
        for message in subscriber.frames:
            if isinstance(message, protocol.AwarenessUpdate):
                for _client, _clock, state in message.entries:
                    if state not in ("", "null") and json.loads(state).get("restored"):
                        return json.loads(state)
        return None
    await bob.wait(lambda s: server_entry(s) is not None)
    entry = server_entry(bob)
    assert entry["restored"] == notice["restored"] and entry["server"] is True and "saved" in entry


def _text_of(updates: list[bytes]) -> str:
    """The text a subscriber has after applying every update it was sent."""
    doc = Doc()
    for update in updates:
        doc.apply_update(update)
    return str(doc.get("t", type=Text))


async def test_an_edit_the_store_refuses_changes_nothing(registry, store, document_id):
    alice, bob = FakeSubscriber("alice"), FakeSubscriber("bob")
    actor = await registry.join(document_id, alice)
    await registry.join(document_id, bob)
    await actor.tell(Incoming(alice, protocol.Update(text_update("start;"))))
    store.fail_snapshots = OSError("database is down")
    with pytest.raises(Unavailable, match="nothing was changed"):
        await actor.ask(edit("restored;", author="carol", notice={"restored": {"by": "carol"}}))
    assert live_text(registry, document_id) == "start;", "the live document is untouched"
    assert "restored;" not in _text_of(bob.updates()), "no subscriber saw the change"
    # While the store is known to fail, an edit is refused at once, without a write.
    failures = store.snapshot_failures
    with pytest.raises(Unavailable):
        await actor.ask(edit("restored;"))
    assert store.snapshot_failures == failures
    # Once it recovers (the actor's own retry succeeds), edits work again.
    store.fail_snapshots = None
    await actor.ask(TakeSnapshot())
    answer = await actor.ask(edit("restored;"))
    assert answer["result"] == 1 and live_text(registry, document_id) == "start;restored;"


async def test_an_unknown_edit_is_refused():
    with pytest.raises(ValueError, match="no edit is registered"):
        edits.get("no.such.edit")

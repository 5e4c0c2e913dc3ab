"""The DocumentActor and its registry in-process: no sockets, an in-memory store."""

import asyncio
import base64
import json

import pytest
from pycrdt import Doc, Text

from collab import codes, protocol
from collab.actor import State
from collab.config import CollabConfig
from collab.messages import (
    ApplyUpdate, Flush, GetState, Incoming, Leave, StateChanged, TakeSnapshot, state_digest,
)
from collab.registry import Registry
from collab.store import DocumentGone, MemoryStore, StaleOwner
from tests.support.actors import FakeSubscriber
from tests.support.crdt import text_update
from tests.support.waits import wait_until

async def test_join_sends_state_vector_and_presence(registry, document_id):
    alice = FakeSubscriber()
    actor = await registry.join(document_id, alice)
    assert isinstance(alice.frames[0], protocol.SyncStep1), "the server starts the sync with its state vector"
    assert isinstance(alice.frames[1], protocol.AwarenessUpdate), "then it sends everybody's presence"
    assert actor.subscriber_count == 1


async def test_update_fans_out_to_others_never_the_sender(registry, document_id):
    alice, bob, carol = FakeSubscriber("alice"), FakeSubscriber("bob"), FakeSubscriber("carol")
    actor = await registry.join(document_id, alice)
    await registry.join(document_id, bob)
    await registry.join(document_id, carol)
    update = text_update("hello")
    await actor.tell(Incoming(alice, protocol.Update(update)))
    await bob.wait(lambda s: s.updates())
    await carol.wait(lambda s: s.updates())
    assert bob.updates() == [update] and carol.updates() == [update]
    assert alice.updates() == [], "the sender must not get its own update back"
    state, _ = await actor.ask(GetState())
    doc = Doc()
    doc.apply_update(state)
    assert str(doc.get("t", type=Text)) == "hello"


async def test_sync_step1_is_answered_to_the_asker_only(registry, document_id):
    alice, bob = FakeSubscriber("alice"), FakeSubscriber("bob")
    actor = await registry.join(document_id, alice)
    await registry.join(document_id, bob)
    await actor.tell(Incoming(alice, protocol.Update(text_update("abc"))))
    await actor.tell(Incoming(bob, protocol.SyncStep1(b"\x00")))
    await bob.wait(lambda s: any(isinstance(m, protocol.SyncStep2) for m in s.frames))
    assert not any(isinstance(m, protocol.SyncStep2) for m in alice.frames)


async def test_viewer_updates_are_refused(registry, document_id, store):
    viewer, editor = FakeSubscriber("vic", can_write=False), FakeSubscriber("ed")
    actor = await registry.join(document_id, viewer)
    await registry.join(document_id, editor)
    await actor.tell(Incoming(viewer, protocol.Update(text_update("nope"))))
    state, _ = await actor.ask(GetState())
    doc = Doc()
    doc.apply_update(state)
    assert "t" not in doc.keys(), "a viewer's update must not reach the document"
    assert editor.updates() == []


async def test_bad_update_closes_only_the_sender(registry, document_id):
    alice, bob = FakeSubscriber("alice"), FakeSubscriber("bob")
    actor = await registry.join(document_id, alice)
    await registry.join(document_id, bob)
    await actor.tell(Incoming(alice, protocol.Update(b"\x01\x02garbage")))
    await alice.wait(lambda s: s.closed_with is not None)
    assert alice.closed_with == codes.BAD_MESSAGE
    await actor.tell(Incoming(bob, protocol.Update(text_update("still fine"))))
    state, _ = await actor.ask(GetState())
    doc = Doc()
    doc.apply_update(state)
    assert str(doc.get("t", type=Text)) == "still fine"
    assert actor.state is State.RUNNING and actor.subscriber_count == 1


async def test_flush_writes_log_and_publishes_saved_vector(registry, document_id, store):
    alice, bob = FakeSubscriber("alice"), FakeSubscriber("bob")
    actor = await registry.join(document_id, alice)
    await registry.join(document_id, bob)
    await actor.tell(Incoming(alice, protocol.Update(text_update("durable"))))
    await actor.ask(Flush())
    assert list(store.log[document_id].values()), "the update should be in the log"
    _, state_vector = await actor.ask(GetState())
    saved = [m for m in bob.frames if isinstance(m, protocol.AwarenessUpdate)][-1]
    entries = protocol.awareness_entries(saved.payload)
    assert base64.b64encode(state_vector).decode() in entries[-1][2], "saved should be the stored state vector"


async def test_idle_stop_takes_a_final_snapshot(registry, document_id, store):
    alice = FakeSubscriber()
    actor = await registry.join(document_id, alice)
    await actor.tell(Incoming(alice, protocol.Update(text_update("keep me"))))
    actor.post(Leave(alice))
    await actor._done.wait()
    assert actor.state is State.STOPPED
    assert registry.get_running(document_id) is None
    snapshot = store.snapshots[document_id][-1]
    doc = Doc()
    doc.apply_update(snapshot.state)
    assert str(doc.get("t", type=Text)) == "keep me"
    assert snapshot.authors == ("alice",)
    assert store.log[document_id] == {}, "log rows covered by the snapshot are dropped"


async def test_write_failure_keeps_updates_and_retries(registry, document_id, store):
    alice = FakeSubscriber()
    actor = await registry.join(document_id, alice)
    store.fail = OSError("database is down")
    await actor.tell(Incoming(alice, protocol.Update(text_update("survives"))))
    flushed = asyncio.ensure_future(actor.ask(Flush()))
    await asyncio.wait_for(store.failed.wait(), 5)
    assert not flushed.done(), "a flush must not report success while writes fail"
    store.fail = None
    await asyncio.wait_for(flushed, 10)
    loaded = await store.load(document_id)
    doc = Doc()
    for update in loaded.updates:
        doc.apply_update(update)
    assert str(doc.get("t", type=Text)) == "survives"


async def test_crash_restarts_from_store(registry, document_id, store, monkeypatch):
    alice = FakeSubscriber()
    actor = await registry.join(document_id, alice)
    await actor.tell(Incoming(alice, protocol.Update(text_update("before crash"))))
    await actor.ask(Flush())

    def boom():
        raise RuntimeError("bug in the actor")

    monkeypatch.setattr(actor, "_on_tick", boom)
    actor._fire()
    await actor._done.wait()
    assert actor.state is State.FAILED
    assert alice.closed_with == codes.INTERNAL_ERROR, "subscribers are told to reconnect"
    successor = await registry.get(document_id)
    assert successor is not actor and successor.state is State.RUNNING
    state, _ = await successor.ask(GetState())
    doc = Doc()
    doc.apply_update(state)
    assert str(doc.get("t", type=Text)) == "before crash"


async def test_concurrent_joins_share_one_load(registry, document_id, store):
    loads = 0
    original = store.load

    async def counting_load(doc_id, fence=None):
        nonlocal loads
        loads += 1
        await asyncio.sleep(0)
        return await original(doc_id, fence)

    store.load = counting_load
    actors = await asyncio.gather(*(registry.join(document_id, FakeSubscriber(f"u{i}")) for i in range(10)))
    assert loads == 1 and len({id(a) for a in actors}) == 1


async def test_named_snapshot(registry, document_id, store):
    alice = FakeSubscriber()
    actor = await registry.join(document_id, alice)
    await actor.tell(Incoming(alice, protocol.Update(text_update("v1"))))
    snapshot_id = await actor.ask(TakeSnapshot(label="first draft", kind="named"))
    assert snapshot_id == 1
    assert store.snapshots[document_id][0].label == "first draft"


async def test_relayed_server_awareness_is_dropped_not_fatal(registry, document_id):
    """y-websocket clients relay every awareness change they get, the server's included."""
    from pycrdt import Awareness

    alice, bob = FakeSubscriber("alice"), FakeSubscriber("bob")
    actor = await registry.join(document_id, alice)
    await registry.join(document_id, bob)
    server_entry = protocol.awareness_entries(alice.frames[1].payload)[0]
    own = Awareness(Doc())
    own.set_local_state({"user": {"username": "alice", "name": "Alice"}})
    mine = protocol.awareness_entries(own.encode_awareness_update([own.client_id]))[0]
    relayed = protocol.encode_awareness_entries([server_entry, mine])
    await actor.tell(Incoming(alice, protocol.decode(protocol.encode_awareness(relayed))))
    await bob.wait(lambda s: any(isinstance(m, protocol.AwarenessUpdate) and "Alice" in m.payload.decode("latin1")
                                 for m in s.frames[2:]))
    assert alice.closed_with is None, "relaying the server's entry is normal client behaviour"
    forwarded = [m for m in bob.frames[2:] if isinstance(m, protocol.AwarenessUpdate)][-1]
    assert [e[0] for e in protocol.awareness_entries(forwarded.payload)] == [own.client_id]


async def test_relayed_presence_is_not_removed_when_the_relayer_leaves(registry, document_id):
    """y-websocket clients relay each other's presence; only the announcer's departure removes it."""
    from pycrdt import Awareness

    alice, bob, carol = FakeSubscriber("alice"), FakeSubscriber("bob"), FakeSubscriber("carol")
    actor = await registry.join(document_id, alice)
    await registry.join(document_id, bob)
    await registry.join(document_id, carol)
    presence = Awareness(Doc())
    presence.set_local_state({"user": {"username": "alice", "name": "Alice"}})
    payload = presence.encode_awareness_update([presence.client_id])
    message = protocol.decode(protocol.encode_awareness(payload))
    await actor.tell(Incoming(alice, message))
    await actor.tell(Incoming(bob, message))  # bob relays alice's entry
    await actor.tell(Incoming(bob, message))
    actor.post(Leave(bob))
    await actor.ask(Flush())  # the mailbox is FIFO: the leave has been handled
    assert presence.client_id in actor._presence.states, "alice is still here"
    actor.post(Leave(alice))
    await actor.ask(Flush())
    assert presence.client_id not in actor._presence.states, "alice's presence goes with her"


def stored_text(store: MemoryStore, document_id) -> str:
    """What a fresh load of the document gives (latest snapshot + log)."""
    snaps = store.snapshots.get(document_id, [])
    last_seq = snaps[-1].last_seq if snaps else 0
    log = store.log.get(document_id, {})
    doc = Doc()
    for update in ([snaps[-1].state] if snaps else []) + [log[s] for s in sorted(log) if s > last_seq]:
        doc.apply_update(update)
    return str(doc.get("t", type=Text)) if "t" in doc.keys() else ""


async def test_a_failing_snapshot_never_stops_log_appends(document_id, store, caplog):
    # Snapshots due all the time, and every one fails (a NUL in the preview on
    # PostgreSQL, a bug in a renderer...): edits must still reach the log.
    config = CollabConfig(flush_delay=0.01, flush_max_wait=0.05, snapshot_interval=0.02, idle_timeout=0.2,
                          retry_max=0.2)
    registry = Registry(store, config)
    store.fail_snapshots = ValueError("A string literal cannot contain NUL (0x00) characters.")
    alice = FakeSubscriber()
    actor = await registry.join(document_id, alice)
    doc = Doc()
    await actor.tell(Incoming(alice, protocol.Update(text_update("one ", doc))))
    await wait_until(lambda: store.snapshot_failures >= 1, step=0.01)
    for word in ("two ", "three ", "four"):
        await actor.tell(Incoming(alice, protocol.Update(text_update(word, doc))))
        await wait_until(lambda: stored_text(store, document_id) == str(doc["t"]), timeout=1.0, step=0.01)
    await wait_until(lambda: store.snapshot_failures >= 3, step=0.01)
    assert stored_text(store, document_id) == "one two three four", "every edit is in the log"
    assert actor.inspect()["snapshot_failing"] is True, "inspect() says snapshots are failing"
    assert actor.inspect()["failing"] is False, "log writes are not failing"
    said = [r for r in caplog.records if "snapshot" in r.getMessage() and r.levelname == "ERROR"]
    assert len(said) == 1, f"the failure is logged once, not once per retry: {[r.getMessage() for r in said]}"
    # Everything is in the log: the actor may unload although its snapshot failed.
    actor.post(Leave(alice))
    await asyncio.wait_for(actor._done.wait(), 5)
    assert actor.state is State.STOPPED
    assert store.snapshots.get(document_id, []) == [] and stored_text(store, document_id) == "one two three four"


async def test_snapshots_recover_after_failing(document_id, store, caplog):
    config = CollabConfig(flush_delay=0.01, flush_max_wait=0.05, snapshot_interval=0.02, retry_max=0.1)
    registry = Registry(store, config)
    store.fail_snapshots = ValueError("broken")
    alice = FakeSubscriber()
    actor = await registry.join(document_id, alice)
    await actor.tell(Incoming(alice, protocol.Update(text_update("text"))))
    await wait_until(lambda: store.snapshot_failures >= 2, step=0.01)
    store.fail_snapshots = None
    await wait_until(lambda: store.snapshots.get(document_id), step=0.01)
    await wait_until(lambda: not actor.inspect()["snapshot_failing"], step=0.01)
    assert any("snapshots recovered" in r.getMessage() for r in caplog.records)


async def test_stale_owner_closes_subscribers_and_stops_without_writing_again(registry, document_id, store):
    alice, bob = FakeSubscriber("alice"), FakeSubscriber("bob")
    actor = await registry.join(document_id, alice)
    await registry.join(document_id, bob)
    store.fail = StaleOwner(document_id)  # a newer owner has claimed the document
    await actor.tell(Incoming(alice, protocol.Update(text_update("too late"))))
    await asyncio.wait_for(actor._done.wait(), 5)
    assert alice.closed_with == bob.closed_with == codes.INTERNAL_ERROR, "subscribers reconnect to the new owner"
    assert actor.state is State.STOPPED
    assert store.failures == 1 and store.writes == 0, (
        f"one refused write and no other attempt (no retry, no final snapshot): {store.failures}"
    )


@pytest.mark.parametrize("refusal", ["deleted", "stale owner"])
async def test_a_snapshot_asked_for_when_the_store_refuses_for_good_gets_the_error(registry, document_id, store,
                                                                                   refusal):
    # A restore or a named version on a document deleted (or taken over) meanwhile must not hang.
    alice = FakeSubscriber("alice")
    actor = await registry.join(document_id, alice)
    await actor.tell(Incoming(alice, protocol.Update(text_update("kept elsewhere"))))
    if refusal == "deleted":
        store.documents.discard(document_id)
        expected = DocumentGone
    else:
        store.fail = StaleOwner(document_id)
        expected = StaleOwner
    with pytest.raises(expected):
        await asyncio.wait_for(actor.ask(TakeSnapshot(label="named")), 5)


def published_saved(subscriber: FakeSubscriber) -> dict[int, int]:
    """The last "saved" state vector the server published to this subscriber, decoded."""
    for message in reversed(subscriber.frames):
        if isinstance(message, protocol.AwarenessUpdate):
            for _client, _clock, state in protocol.awareness_entries(message.payload):
                if state not in ("", "null") and json.loads(state).get("server"):
                    return protocol.decode_state_vector(base64.b64decode(json.loads(state)["saved"]))
    return {}


async def test_saved_covers_only_what_a_committed_write_held(registry, document_id, store):
    # A's write is in flight when B arrives: its commit must not report B as saved.
    alice, bob, watcher = FakeSubscriber("alice"), FakeSubscriber("bob"), FakeSubscriber("watcher", can_write=False)
    actor = await registry.join(document_id, alice)
    await registry.join(document_id, bob)
    await registry.join(document_id, watcher)
    doc_a, doc_b = Doc(), Doc()
    first_write, second_write = asyncio.Event(), asyncio.Event()
    store.hold_appends = first_write
    await actor.tell(Incoming(alice, protocol.Update(text_update("A", doc_a))))
    await asyncio.wait_for(store.append_started.wait(), 5)  # A's write has started (and waits)
    store.hold_appends = second_write  # the next write (B's) will wait on this one
    await actor.tell(Incoming(bob, protocol.Update(text_update("B", doc_b))))
    await actor.ask(GetState())  # B is applied to the document now
    first_write.set()

    def covers(saved, doc):
        return saved.get(doc.client_id, 0) >= protocol.decode_state_vector(doc.get_state())[doc.client_id]

    await watcher.wait(lambda s: covers(published_saved(s), doc_a))
    assert not covers(published_saved(watcher), doc_b), "B's write has not committed: B must not show as saved"
    second_write.set()
    await watcher.wait(lambda s: covers(published_saved(s), doc_b))
    assert covers(published_saved(watcher), doc_a)


def saved_publications(subscriber: FakeSubscriber) -> int:
    """How many times the server sent this subscriber its "saved" state after the join."""
    count = 0
    for message in subscriber.frames[2:]:  # past the join's state vector and presence
        if isinstance(message, protocol.AwarenessUpdate):
            states = [s for _c, _k, s in protocol.awareness_entries(message.payload) if s not in ("", "null")]
            count += any(json.loads(s).get("server") for s in states)
    return count


async def test_saved_is_published_a_few_times_a_second_and_ends_with_the_last_commit(document_id, store):
    # Commits as fast as the store takes them: clients must not get a "saved" frame per commit.
    config = CollabConfig(flush_delay=0.001, flush_max_wait=0.002, snapshot_interval=60, idle_timeout=1)
    registry = Registry(store, config)
    alice, watcher = FakeSubscriber("alice"), FakeSubscriber("watcher", can_write=False)
    actor = await registry.join(document_id, alice)
    await registry.join(document_id, watcher)
    doc = Doc()
    loop = asyncio.get_running_loop()
    started, words = loop.time(), 0
    while loop.time() - started < 0.6:
        words += 1
        await actor.tell(Incoming(alice, protocol.Update(text_update(f"w{words} ", doc))))
        await actor.ask(Flush())  # committed
    elapsed = loop.time() - started
    commits = store.writes

    def covers_everything(subscriber):
        saved = published_saved(subscriber)
        return saved.get(doc.client_id, 0) >= protocol.decode_state_vector(doc.get_state())[doc.client_id]

    await watcher.wait(covers_everything)  # the last publication covers the last commit
    published = saved_publications(watcher)
    print(f"{commits} commits in {elapsed:.2f} s: {published} saved publications "
          f"({published / elapsed:.1f}/s, {commits / elapsed:.0f} commits/s)")
    assert commits >= 20, f"the burst should commit often: {commits}"
    assert published <= elapsed / 0.25 + 2, f"{published} saved publications in {elapsed:.2f} s: at most 4 a second"


async def test_a_conditional_server_change_applies_only_over_the_state_it_expects(registry, document_id):
    state, state_vector = await registry.ask(document_id, GetState())
    expected = state_digest(state, state_vector)
    # An edit arrives first: the change computed against the older state is refused, nothing changes.
    await registry.ask(document_id, ApplyUpdate(update=text_update("typed ")))
    with pytest.raises(StateChanged):
        await registry.ask(document_id, ApplyUpdate(update=text_update("stale"), expect=expected))
    now, now_vector = await registry.ask(document_id, GetState())
    doc = Doc()
    doc.apply_update(now)
    assert str(doc.get("t", type=Text)) == "typed "

    # Over the state it names, it goes through; the answer is the state just after.
    answer = await registry.ask(document_id, ApplyUpdate(update=text_update("fresh"),
                                                         expect=state_digest(now, now_vector)))
    after, after_vector = answer
    doc.apply_update(after)
    assert after_vector == (await registry.ask(document_id, GetState()))[1]
    assert "fresh" in str(doc.get("t", type=Text))

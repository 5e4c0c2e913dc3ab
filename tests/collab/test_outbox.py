"""The fan-out outbox: coalescing and never echoing an author's own update, with no timers."""

import pytest
from pycrdt import Doc, Text

from pycrdt import merge_updates as merge

from collab import protocol
from collab.outbox import Outbox


def edits(*texts: str) -> list[bytes]:
    doc, updates = Doc(), []
    doc["t"] = Text()
    for text in texts:
        before = doc.get_state()
        doc["t"] += text
        updates.append(doc.get_update(before))
    return updates


def text_of(frame: bytes | None, base: bytes = b"") -> str:
    """The text a peer that has `base` sees after applying `frame`."""
    doc = Doc()
    if base:
        doc.apply_update(base)
    if frame is not None:
        doc.apply_update(protocol.decode(frame).update)
    return str(doc.get("t", type=Text))


@pytest.mark.parametrize("last_send, now, goes_now", [
    (None, 0.0, True),  # the first update after a quiet spell goes at once
    (1.0, 1.005, False),  # within the interval of the last send: it waits
    (1.0, 1.01, True),
])
def test_when_a_batch_may_go(last_send, now, goes_now):
    outbox = Outbox(0.01)
    if last_send is not None:
        outbox.take(last_send)
    assert (now >= outbox.due) is goes_now


def test_one_update_goes_to_everyone_but_its_author():
    [update] = edits("a")
    outbox = Outbox(0.01)
    outbox.add(update, "alice")
    everyone, own = outbox.take(0.0)
    assert protocol.decode(everyone).update == update, "a lone update is sent as it came, unmerged"
    assert own == {"alice": None}, "the author gets nothing back"
    assert outbox.take(0.02) == (None, {}), "the outbox is empty once taken"


def test_a_server_update_goes_to_everyone():
    outbox = Outbox(0.01)
    outbox.add(edits("x")[0], None)
    everyone, own = outbox.take(0.0)
    assert everyone is not None and own == {}


def test_a_burst_is_one_frame_per_recipient_without_echoes():
    a1, b1, a2, s1 = edits("a1 ", "b1 ", "a2 ", "s1")
    outbox = Outbox(0.01)
    for update, author in ((a1, "alice"), (b1, "bob"), (a2, "alice"), (s1, None)):
        outbox.add(update, author)
    everyone, own = outbox.take(0.0)
    assert text_of(everyone) == "a1 b1 a2 s1", "a bystander gets the whole burst in one frame"
    assert set(own) == {"alice", "bob"}
    # (One Doc typed every edit here, so a frame without b1 leaves what follows b1 pending.)
    assert text_of(own["alice"], base=merge(a1, b1, a2)) == "a1 b1 a2 s1", "alice gets what the others wrote"
    assert text_of(own["alice"]) == "", "alice's frame lacks a1, her own (so b1, which follows it, waits)"
    assert text_of(own["bob"]) == "a1 ", "bob's frame lacks b1, his own"
    assert text_of(own["bob"], base=merge(a1, b1)) == "a1 b1 a2 s1", "bob gets everything else"


def test_an_author_alone_in_a_burst_gets_nothing():
    a1, a2 = edits("a1", "a2")
    outbox = Outbox(0.01)
    outbox.add(a1, "alice")
    outbox.add(a2, "alice")
    everyone, own = outbox.take(0.0)
    assert text_of(everyone) == "a1a2" and own == {"alice": None}

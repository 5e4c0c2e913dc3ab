"""The persistence plan's decisions: plain calls with `now` given, no timers, no store."""

import pytest
from pycrdt import Doc, Text

from collab.config import CollabConfig
from collab.persistence import MERGE_AT, SAVED_INTERVAL, PersistencePlan, SnapshotJob, Write

CONFIG = CollabConfig(flush_delay=0.1, flush_max_wait=0.5, snapshot_interval=60.0, retry_max=5.0)


class Request:
    """A TakeSnapshot stand-in: the plan reads only label and kind."""

    def __init__(self, label="", kind="auto"):
        self.label, self.kind = label, kind


def edit(doc: Doc, text: str) -> bytes:
    before = doc.get_state()
    if "t" not in doc:
        doc["t"] = Text()
    doc["t"] += text
    return doc.get_update(before)


def plan_with_edits(*times, author="alice") -> PersistencePlan:
    plan = PersistencePlan(CONFIG)
    doc = Doc()
    for i, now in enumerate(times):
        plan.changed(edit(doc, str(i)), author, now)
    return plan


# (edits at these times, asked at, what is due): debounce with a ceiling.
@pytest.mark.parametrize("edits, now, expected", [
    ((), 100.0, None),
    ((0.0,), 0.05, None),  # still within the quiet period
    ((0.0,), 0.1, Write.APPEND),  # quiet for flush_delay
    ((0.0, 0.08, 0.16, 0.24, 0.32, 0.40, 0.48), 0.5, Write.APPEND),  # never quiet, but the ceiling is reached
    ((0.0, 0.08, 0.16, 0.24, 0.32, 0.40, 0.48), 0.49, None),
    ((0.0,), 60.0, Write.SNAPSHOT),  # the snapshot interval is over: a snapshot takes the log's edits too
])
def test_what_is_due(edits, now, expected):
    plan = plan_with_edits(*edits)
    assert plan.due(now) is expected, f"after edits at {edits}, at {now}: expected {expected}"


@pytest.mark.parametrize("edits, expected", [
    ((), float("inf")),
    ((0.0,), 0.1),
    ((0.0, 0.45), 0.5),  # the ceiling comes before the quiet period's end
])
def test_deadline(edits, expected):
    assert plan_with_edits(*edits).deadline() == pytest.approx(expected)


def test_nothing_is_due_while_a_write_is_in_flight():
    plan = plan_with_edits(0.0)
    job = plan.start_append(b"sv")
    plan.changed(edit(Doc(), "more"), "bob", 0.2)
    assert plan.due(10.0) is None and plan.deadline() == float("inf"), "one write at a time"
    assert plan.next_write(10.0, force=True) is None
    plan.written(job)
    assert plan.due(10.0) is Write.APPEND


def test_a_committed_write_is_what_may_be_called_saved():
    plan = plan_with_edits(0.0, 0.01)
    job = plan.start_append(b"sv-after-two")
    assert (job.seq, plan.next_seq, plan.unsaved) == (1, 2, []), "the append takes every unsaved update"
    assert plan.durable_sv == b"", "nothing is saved before the store commits"
    plan.changed(edit(Doc(), "x"), "bob", 0.02)
    plan.written(job)
    assert plan.durable_sv == b"sv-after-two" and (plan.durable, plan.received) == (2, 3)


# Failed log appends: (failures in a row, retry delay after the last).
@pytest.mark.parametrize("failures, delay", [(1, 0.25), (2, 0.5), (3, 1.0), (5, 4.0), (6, 5.0), (10, 5.0)])
def test_failed_appends_back_off_up_to_retry_max(failures, delay):
    plan = plan_with_edits(0.0)
    started = []
    for _ in range(failures):
        job = plan.start_append(b"sv")
        started.append(plan.failed(job, 1.0))
    assert started == [True] + [False] * (failures - 1), "a failing spell starts once (logged once)"
    assert plan.retry_at == pytest.approx(1.0 + delay)
    assert plan.due(1.0 + delay - 0.01) is None and plan.due(1.0 + delay) is Write.APPEND
    assert plan.next_write(1.0, force=True) is Write.APPEND, "a flush asked for retries at once"


def test_a_failed_write_keeps_its_updates_before_newer_ones():
    plan = plan_with_edits(0.0)
    job = plan.start_append(b"sv")
    newer = edit(Doc(), "newer")
    plan.changed(newer, "bob", 0.2)
    plan.failed(job, 0.3)
    assert plan.unsaved == [job.update, newer]
    assert plan.unsaved_bytes == len(job.update) + len(newer)
    plan.written(plan.start_append(b"sv2"))
    assert not plan.failing and plan.retry_at == 0.0 and plan.backoff == 0.0, "a success ends the spell"


def test_a_failing_snapshot_never_holds_edits_back():
    plan = plan_with_edits(0.0)
    job = plan.start_snapshot(b"state", b"sv")
    assert isinstance(job, SnapshotJob) and job.data.authors == ("alice",)
    assert plan.failed(job, 60.0) is True and plan.snapshot_failing and not plan.failing
    assert plan.authors == {"alice"}, "the snapshot's authors go to the next one"
    assert plan.due(60.0) is Write.APPEND, "its edits go to the log at once"
    plan.written(plan.start_append(b"sv"))
    assert plan.due(60.0) is None, "the snapshot waits for its own backoff"
    assert plan.due(60.25) is Write.SNAPSHOT
    assert plan.may_unload(), "every edit is in the log: the document may unload without its snapshot"
    snapshot = plan.start_snapshot(b"state", b"sv")
    plan.written(snapshot)
    assert not plan.snapshot_failing and plan.snapshot_retry_at == 0.0


def test_snapshot_requests_are_answered_by_one_snapshot_with_their_label():
    plan = PersistencePlan(CONFIG, next_seq=8)
    plan.snapshot_requests += [Request(), Request("draft", "named")]
    assert plan.next_write(0.0, force=True) is Write.SNAPSHOT, "a snapshot is written even with nothing unsaved"
    job = plan.start_snapshot(b"state", b"sv")
    assert (job.data.label, job.data.kind, job.data.last_seq) == ("draft", "named", 7)
    assert len(job.requests) == 2 and plan.snapshot_requests == []


# (edits, what happened to them, may the document unload?): never unload what is not saved.
@pytest.mark.parametrize("edits, outcome, may_unload", [
    ((), None, True),
    ((0.0,), None, False),  # unsaved
    ((0.0,), "appended", False),  # in the log, not yet in a snapshot: snapshot first
    ((0.0,), "snapshot", True),
    ((0.0,), "append failed", False),
    ((0.0,), "snapshot failed", False),  # its edits are back in unsaved
    ((0.0,), "snapshot failed, then appended", True),
])
def test_never_unload_what_is_not_saved(edits, outcome, may_unload):
    plan = plan_with_edits(*edits)
    if outcome == "appended":
        plan.written(plan.start_append(b"sv"))
    elif outcome == "snapshot":
        plan.written(plan.start_snapshot(b"s", b"sv"))
    elif outcome == "append failed":
        plan.failed(plan.start_append(b"sv"), 1.0)
    elif outcome and outcome.startswith("snapshot failed"):
        plan.failed(plan.start_snapshot(b"s", b"sv"), 1.0)
        if outcome.endswith("appended"):
            plan.written(plan.start_append(b"sv"))
    assert plan.may_unload() is may_unload, f"{edits} {outcome}"


def test_unsaved_updates_are_merged_to_bound_memory():
    plan = plan_with_edits(*[i * 0.001 for i in range(MERGE_AT)])
    assert len(plan.unsaved) == 1 and plan.received == MERGE_AT
    doc = Doc()
    doc.apply_update(plan.unsaved[0])
    assert str(doc.get("t", type=Text)) == "".join(str(i) for i in range(MERGE_AT)), "nothing lost in the merge"


# (last heard at, saved since?, asked at, publish now?): "saved" at most every SAVED_INTERVAL, only when it changed.
@pytest.mark.parametrize("heard_at, changed, now, due", [
    (None, True, 0.0, True),  # nothing heard yet: at once
    (10.0, False, 20.0, False),  # nothing new to say
    (10.0, True, 10.1, False),  # too soon after the last one
    (10.0, True, 10.0 + SAVED_INTERVAL, True),
])
def test_when_saved_is_published(heard_at, changed, now, due):
    plan = PersistencePlan(CONFIG, state_vector=b"loaded")
    if heard_at is not None:
        plan.saved_published(heard_at)
    if changed:
        plan.written(plan.start_append(b"newer"))
    assert plan.saved_due(now) is due
    if changed and not due:
        assert plan.deadline() == pytest.approx(heard_at + SAVED_INTERVAL), "the actor wakes up to say it"


def test_saved_said_to_nobody_does_not_delay_the_next():
    plan = PersistencePlan(CONFIG, state_vector=b"loaded")
    plan.saved_published(5.0, heard=False)  # no subscribers: no frame was sent
    plan.written(plan.start_append(b"newer"))
    assert plan.saved_due(5.01), "a subscriber hears the first commit at once"


def test_saved_is_never_ahead_of_a_committed_write():
    plan = plan_with_edits(0.0)
    plan.saved_published(0.0)
    job = plan.start_append(b"sv-in-flight")
    assert not plan.saved_due(10.0) and plan.durable_sv == b"", "a write in flight is not saved"
    plan.failed(job, 10.0)
    assert not plan.saved_due(20.0) and plan.durable_sv == b"", "nor a failed one"
    plan.written(plan.start_append(b"sv-committed"))
    assert plan.saved_due(20.0) and plan.durable_sv == b"sv-committed"

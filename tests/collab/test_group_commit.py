"""Group commit (collab/writer.py): many documents' writes in one transaction, per-document guarantees kept.

The writer's own bookkeeping runs in-process with a plain commit function.
The scenarios with documents run real actors over DjangoStore on SQLite and
on PostgreSQL, in a subprocess set up on a database of its own (as in
test_store: the test process's Django is configured for SQLite only); each
returns what it observed and the test asserts on it. `writer.hold` gathers
chosen writes into one batch, as MemoryStore.hold_appends holds appends.
"""

import asyncio
import logging
import threading
from types import SimpleNamespace

import pytest
from pycrdt import Doc, Text

from collab import codes, protocol
from collab.actor import DocumentActor, State
from collab.config import CollabConfig
from collab.messages import Flush, Incoming, Join, TakeSnapshot
from collab.writer import GroupWriter
from tests.support.actors import FakeSubscriber, as_snapshot
from tests.support.crdt import text_update
from tests.support.waits import wait_until

# Quick flushes; no timed snapshot; quick retries.
CONFIG = CollabConfig(flush_delay=0.01, flush_max_wait=0.05, snapshot_interval=3600, idle_timeout=3600,
                      retry_max=0.5)


# --- the writer's bookkeeping, in-process ---------------------------------------------------


class Commits:
    """A commit function that records its batches; `refuse` names writes answered with an error."""

    def __init__(self, refuse=(), raise_error=None):
        self.batches: list[list] = []
        self.refuse = set(refuse)
        self.raise_error = raise_error
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def __call__(self, writes):
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            self.batches.append(list(writes))
            if self.raise_error is not None:
                raise self.raise_error
            return [ValueError(w) if w in self.refuse else f"ok {w}" for w in writes]
        finally:
            with self._lock:
                self.in_flight -= 1


async def submit_all(writer, writes):
    return await asyncio.gather(*(writer.submit(w) for w in writes), return_exceptions=True)


# (writes handed over at once, max_batch, refused): the batches committed, each write's outcome.
@pytest.mark.parametrize("writes, max_batch, refuse, batches, outcomes", [
    (["a", "b", "c"], 10, (), [["a", "b", "c"]], ["ok a", "ok b", "ok c"]),
    (["a", "b", "c"], 2, (), [["a", "b"], ["c"]], ["ok a", "ok b", "ok c"]),
    (["a", "b", "c"], 10, ("b",), [["a", "b", "c"]], ["ok a", ValueError, "ok c"]),  # refused alone
])
async def test_the_writer_commits_what_is_pending_together(writes, max_batch, refuse, batches, outcomes):
    commits = Commits(refuse)
    writer = GroupWriter(commits, max_batch)
    results = await submit_all(writer, writes)
    assert commits.batches == batches
    assert [type(r) if isinstance(r, Exception) else r for r in results] == outcomes
    assert commits.most_in_flight == 1, "at most one commit in flight"
    assert (writer.commits, writer.writes) == (len(batches), len(writes) - len(refuse))


async def test_a_failed_commit_fails_every_write_of_its_batch_and_none_is_acknowledged():
    writer = GroupWriter(Commits(raise_error=ConnectionError("database down")))
    results = await submit_all(writer, ["a", "b"])
    assert all(isinstance(r, ConnectionError) for r in results)
    assert (writer.failed_commits, writer.writes) == (1, 0)


async def test_writes_handed_over_during_a_commit_go_together_in_the_next():
    commits = Commits()
    writer = GroupWriter(commits)
    writer.hold = asyncio.Event()
    first = asyncio.create_task(writer.submit("first"))
    await wait_until(lambda: writer.pending == 1, what="the first write pending")
    writer.hold.set()
    await first
    writer.hold.clear()
    later = [asyncio.create_task(writer.submit(w)) for w in ("x", "y", "z")]
    await wait_until(lambda: writer.pending == 3, what="three writes pending")
    writer.hold.set()
    await asyncio.gather(*later)
    assert commits.batches == [["first"], ["x", "y", "z"]]


async def test_under_load_commits_are_spaced_by_the_interval_and_what_arrives_meanwhile_goes_together():
    # A commit per flush was most of many-docs' writer CPU (300 commits/s of 1.4 writes each);
    # spacing commits under load gathers more writes into each.
    commits = Commits()
    writer = GroupWriter(commits, min_interval=0.3)
    await writer.submit("first")
    second = asyncio.create_task(writer.submit("second"))
    await wait_until(lambda: writer.pending == 1, what="the second write pending")
    third = asyncio.create_task(writer.submit("third"))
    await asyncio.gather(second, third)
    assert commits.batches == [["first"], ["second", "third"]]


async def test_the_first_write_after_a_quiet_spell_is_committed_at_once():
    commits = Commits()
    writer = GroupWriter(commits, min_interval=30)
    # Nothing committed before: no interval to wait (30 s would time out).
    assert await asyncio.wait_for(writer.submit("alone"), 5) == "ok alone"


# --- scenarios on a real database (run in a subprocess: see `group_commit`) ----------------------


def stored_text(document_id) -> str:
    """The document's text as the store loads it (in a worker thread: the ORM is synchronous)."""
    from documents.storage import DocumentStorage

    doc = Doc()
    for update in DocumentStorage().load(document_id, None).updates:
        doc.apply_update(update)
    return str(doc.get("t", type=Text))


async def open_actors(store, document_ids, fence=None):
    actors, subscribers = [], []
    for i, document_id in enumerate(document_ids):
        lease = SimpleNamespace(token=fence) if fence is not None else None
        actor = DocumentActor(document_id, store, CONFIG, lease=lease)
        await actor.start()
        subscriber = FakeSubscriber(f"user{i}")
        await actor.ask(Join(subscriber=subscriber))
        actors.append(actor)
        subscribers.append(subscriber)
    return actors, subscribers


async def edit_all(actors, subscribers, text):
    for actor, subscriber in zip(actors, subscribers):
        await actor.tell(Incoming(subscriber, protocol.Update(text_update(text))))


async def flush_all(actors, timeout=30):
    await asyncio.wait_for(asyncio.gather(*(actor.ask(Flush()) for actor in actors)), timeout)


async def gathered(store, count: int) -> None:
    await wait_until(lambda: store.writer.pending == count, what=f"{count} writes waiting for the writer", step=0.01)


class CommitCount:
    """Transactions committed by the database, counted by the database's own means.

    SQLite: every COMMIT statement the connections of this process run (a
    trace callback on each new connection). PostgreSQL: the distinct
    transaction ids (xmin) of the log and snapshot rows written.
    """

    def __init__(self):
        from django.db.backends.signals import connection_created

        self.sqlite_commits = 0
        self._lock = threading.Lock()
        connection_created.connect(self._traced, weak=False)

    def _traced(self, sender, connection, **kwargs):
        if connection.vendor == "sqlite":
            connection.connection.set_trace_callback(self._statement)

    def _statement(self, sql):
        if sql.strip().upper().startswith("COMMIT"):
            with self._lock:
                self.sqlite_commits += 1

    def row_transactions(self) -> int:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT count(DISTINCT x) FROM (SELECT xmin::text AS x FROM documents_updatelog "
                           "UNION ALL SELECT xmin::text FROM documents_snapshot) AS rows")
            return cursor.fetchone()[0]


async def fenced_scenario(document_ids, backend) -> dict:
    """Every document has written with fence 1; a newer owner (fence 2) claims the first; all edit in one batch."""
    from collab.store import DjangoStore
    from documents.models import Document

    store = DjangoStore()
    actors, subscribers = await open_actors(store, document_ids, fence=1)
    stale = document_ids[0]
    await asyncio.to_thread(lambda: Document.objects.filter(pk=stale).update(fence=2))
    store.writer.hold = asyncio.Event()
    await edit_all(actors, subscribers, "edit")
    await gathered(store, len(actors))
    commits = store.writer.commits
    store.writer.hold.set()
    await flush_all(actors[1:])
    await subscribers[0].wait(lambda s: s.closed_with is not None)
    await wait_until(lambda: actors[0].state is State.STOPPED, what="the fenced actor stopped")
    return {
        "batches": store.writer.commits - commits,
        "stale_closed_with": subscribers[0].closed_with,
        "others_closed_with": [s.closed_with for s in subscribers[1:]],
        "others_state": [a.state.value for a in actors[1:]],
        "stored": [await asyncio.to_thread(stored_text, d) for d in document_ids],
        "fences": await asyncio.to_thread(
            lambda: [Document.objects.get(pk=d).fence for d in document_ids]),
    }


class Outage:
    """The database becomes unreachable for this process, and comes back.

    PostgreSQL: its connections go through a TCP proxy that is cut (as in
    test_faults). SQLite: another connection holds the database's write lock
    (BEGIN EXCLUSIVE), so that writes fail with "database is locked" after a
    short busy timeout. Set up before the process's first connection.
    """

    def __init__(self, backend):
        self.backend = backend

    async def start(self) -> "Outage":
        from django.conf import settings

        database = settings.DATABASES["default"]
        if self.backend == "postgres":
            from tests.support.tcpproxy import TcpProxy

            self.proxy = await TcpProxy(database["HOST"], int(database["PORT"] or 5432)).start()
            database["HOST"], database["PORT"] = "127.0.0.1", self.proxy.port
        else:
            database["OPTIONS"]["timeout"] = 0.2
            self.path = database["NAME"]
        return self

    def begin(self) -> None:
        if self.backend == "postgres":
            self.proxy.disconnect()
        else:
            import sqlite3

            self.lock = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.lock.execute("BEGIN EXCLUSIVE")

    def end(self) -> None:
        if self.backend == "postgres":
            self.proxy.reconnect()
        else:
            self.lock.execute("COMMIT")
            self.lock.close()


class Messages(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


async def outage_scenario(document_ids, backend) -> dict:
    """A batch of every document's edits meets a database outage; edits go on; then the database returns."""
    from collab.store import DjangoStore

    outage = await Outage(backend).start()
    log = Messages()
    logging.getLogger("collab.actor").addHandler(log)
    store = DjangoStore()
    actors, subscribers = await open_actors(store, document_ids)
    await edit_all(actors, subscribers, "before")
    await flush_all(actors)
    store.writer.hold = asyncio.Event()
    await edit_all(actors, subscribers, "during")
    await gathered(store, len(actors))
    written, failed = store.writer.writes, store.writer.failed_commits
    outage.begin()
    store.writer.hold.set()
    # The batch fails, and the retries (with backoff) fail too.
    await wait_until(lambda: store.writer.failed_commits >= failed + 3, what="the batch and its retries failing")
    during = [a.inspect() for a in actors]
    acknowledged = store.writer.writes - written
    await edit_all(actors, subscribers, "more")
    outage.end()
    await flush_all(actors)
    return {
        "acknowledged_during_outage": acknowledged,
        "failing_during_outage": [i["failing"] for i in during],
        "unsaved_during_outage": [i["unsaved_bytes"] for i in during],
        "closed": [s.closed_with for s in subscribers],
        "stored": [await asyncio.to_thread(stored_text, d) for d in document_ids],
        "failures_logged": [sum(str(d) in m and "write failed" in m for m in log.messages) for d in document_ids],
        "recoveries_logged": [sum(str(d) in m and "writes recovered" in m for m in log.messages)
                              for d in document_ids],
    }


async def snapshot_and_append_scenario(document_ids, backend) -> dict:
    """One batch: for A, a snapshot covering seq 1 and the append of seq 2; for B, both, the snapshot covering seq 2.

    The snapshots are handed over first: a snapshot drops only the log rows it covers.
    """
    from collab.store import DjangoStore
    from documents.models import Snapshot, UpdateLog

    store = DjangoStore()
    a, b = document_ids[:2]
    first, second = {}, {}
    for d in (a, b):
        await store.load(d)
        first[d], second[d] = text_update(f"one-{d}"), text_update(f"two-{d}")
        await store.append(d, 1, first[d])
    store.writer.hold = asyncio.Event()
    writes = [
        store.snapshot(a, as_snapshot([first[a]], 1)),
        store.snapshot(b, as_snapshot([first[b], second[b]], 2)),
        store.append(a, 2, second[a]),
        store.append(b, 2, second[b]),
    ]
    tasks = [asyncio.create_task(w) for w in writes]
    await gathered(store, len(tasks))
    commits = store.writer.commits
    store.writer.hold.set()
    outcomes = await asyncio.gather(*tasks)

    def rows():
        return {str(d): list(UpdateLog.objects.filter(document_id=d).values_list("seq", flat=True)) for d in (a, b)}

    def snapshots():
        return {str(d): list(Snapshot.objects.filter(document_id=d).values_list("last_seq", flat=True))
                for d in (a, b)}

    return {
        "batches": store.writer.commits - commits,
        "snapshot_ids": [isinstance(o, int) for o in outcomes[:2]],
        "log_rows": await asyncio.to_thread(rows),
        "snapshots": await asyncio.to_thread(snapshots),
        "stored": {str(d): await asyncio.to_thread(stored_text, d) for d in (a, b)},
        "next_seq": {str(d): (await store.load(d)).next_seq for d in (a, b)},
    }


async def refused_row_scenario(document_ids, backend) -> dict:
    """One batch: A's row at a sequence number already stored (the database refuses it), and B's row."""
    from collab.store import DjangoStore

    store = DjangoStore()
    a, b = document_ids[:2]
    for d in (a, b):
        await store.load(d)
    await store.append(a, 1, text_update("first"))
    store.writer.hold = asyncio.Event()
    tasks = [asyncio.create_task(store.append(a, 1, text_update("again"))),
             asyncio.create_task(store.append(b, 1, text_update("fine")))]
    await gathered(store, 2)
    store.writer.hold.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "outcomes": [type(o).__name__ for o in outcomes],
        "stored": [await asyncio.to_thread(stored_text, d) for d in (a, b)],
    }


async def many_documents_scenario(document_ids, backend) -> dict:
    """Every document edits, and the first five also ask for a version: one batch, counted by the database."""
    from collab.store import DjangoStore

    counter = CommitCount()
    store = DjangoStore()
    actors, subscribers = await open_actors(store, document_ids)
    store.writer.hold = asyncio.Event()
    await edit_all(actors, subscribers, "edit")
    versions = [asyncio.create_task(actor.ask(TakeSnapshot(label="v"))) for actor in actors[:5]]
    await gathered(store, len(actors))
    before = counter.sqlite_commits
    store.writer.hold.set()
    await asyncio.gather(*versions)
    await flush_all(actors)
    if backend == "postgres":
        transactions = await asyncio.to_thread(counter.row_transactions)
    else:
        transactions = counter.sqlite_commits - before  # before reading back: a load is a transaction too
    return {
        "transactions": transactions,
        "writes": store.writer.writes,
        "stored": [await asyncio.to_thread(stored_text, d) for d in document_ids],
    }


@pytest.fixture
def group_commit(server_factory, backend):
    """Run a scenario of this module on a fresh database of the backend, over `count` documents."""
    server = server_factory()  # never started: its database and django() helper are what we need
    server.database.migrate()

    def run(scenario: str, count: int):
        documents = server.seed(users=["ann"], documents=[{"owner": "ann"}] * count)["documents"]
        return server.django(
            "import asyncio\n"
            "from tests.collab import test_group_commit as t\n"
            f"result = asyncio.run(t.{scenario}({documents!r}, {backend!r}))\n"
        )

    return run


def test_a_document_fenced_out_inside_a_batch_fails_alone(group_commit):
    result = group_commit("fenced_scenario", 4)
    assert result["batches"] == 1, f"the four documents' writes were one batch: {result}"
    assert result["stale_closed_with"] == codes.INTERNAL_ERROR, "its clients reconnect to the newer owner (4011)"
    assert result["stored"][0] == "", "the stale owner's edit is refused"
    assert result["fences"][0] == 2, "the newer owner's fence stays"
    assert all("edit" in text for text in result["stored"][1:]), f"the others are committed: {result['stored']}"
    assert result["others_closed_with"] == [None] * 3 and result["others_state"] == ["running"] * 3
    assert result["fences"][1:] == [1] * 3


def test_the_database_down_mid_batch_acknowledges_nothing_and_everything_is_saved_after(group_commit):
    result = group_commit("outage_scenario", 3)
    assert result["acknowledged_during_outage"] == 0, "nothing is acknowledged before it is committed"
    assert all(result["failing_during_outage"]), "every document of the batch knows its write failed"
    assert all(n > 0 for n in result["unsaved_during_outage"]), "and keeps its edits"
    assert result["closed"] == [None] * 3, "no client is dropped for an outage"
    for text in result["stored"]:
        assert all(word in text for word in ("before", "during", "more")), f"all saved once it is back: {text!r}"
    assert result["failures_logged"] == [1] * 3, "each document logs the outage once, not once per retry"
    assert result["recoveries_logged"] == [1] * 3


def test_a_snapshot_and_log_appends_in_one_batch(group_commit):
    result = group_commit("snapshot_and_append_scenario", 2)
    a, b = result["log_rows"]
    assert result["batches"] == 1, "the two snapshots and two appends were one batch"
    assert all(result["snapshot_ids"]), "each snapshot answers with its id"
    assert result["log_rows"][a] == [2], "A's snapshot covers seq 1 only: the row appended beside it stays"
    assert result["log_rows"][b] == [], "B's snapshot covers seq 2: the row appended beside it is compacted"
    assert result["snapshots"] == {a: [1], b: [2]}
    for d in (a, b):
        assert f"one-{d}" in result["stored"][d] and f"two-{d}" in result["stored"][d], result["stored"]
    assert result["next_seq"] == {a: 3, b: 3}, "sequence numbers go on after both"


def test_many_documents_are_committed_in_one_transaction(group_commit):
    result = group_commit("many_documents_scenario", 30)
    assert all("edit" in text for text in result["stored"]), "every document's edit is stored"
    assert result["writes"] == 30, "25 log rows and 5 snapshots"
    assert result["transactions"] == 1, f"30 documents' writes in one transaction, not {result['transactions']}"


def test_a_write_the_database_refuses_fails_alone(group_commit):
    result = group_commit("refused_row_scenario", 2)
    assert result["outcomes"] == ["IntegrityError", "NoneType"], "only the duplicate row fails"
    assert result["stored"] == ["first", "fine"]

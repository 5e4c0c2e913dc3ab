"""Where actors keep documents: one small interface, a Django backend, an in-memory twin.

A document is stored as its latest snapshot (full state) plus the update-log
rows written after it. The actor calls these coroutines from its writer, one
at a time per document. DjangoStore knows no models: the project's tables
are behind BaseStorage (COLLAB_STORAGE, here documents.storage), and its
writes from every document go through one group commit (collab.writer).
"""

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

from django.utils.module_loading import import_string

from .config import CollabConfig, backend
from .writer import GroupWriter

logger = logging.getLogger(__name__)


class DocumentGone(Exception):
    """The document was deleted: there is nothing to load or write to."""


class StaleOwner(Exception):
    """A newer owner (higher fencing token) has claimed the document: this writer must stop."""


@dataclass(frozen=True)
class Loaded:
    # Updates to apply in order to an empty Doc (snapshot state first).
    updates: list[bytes]
    # The next free UpdateLog sequence number.
    next_seq: int


@dataclass(frozen=True)
class SnapshotData:
    # The whole document as one Yjs update.
    state: bytes
    # Its state vector.
    state_vector: bytes
    # Every log row up to this sequence number is included in `state`.
    last_seq: int
    # Usernames of the people who edited since the previous snapshot.
    authors: tuple[str, ...] = ()
    # A name given to this version, if any.
    label: str = ""
    # "auto", "named" or "restore".
    kind: str = "auto"
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class LogAppend:
    """One update-log row to write: `update` at `seq` of the document."""

    document_id: object
    seq: int
    update: bytes
    fence: int | None = None


@dataclass(frozen=True)
class SnapshotWrite:
    """One snapshot to store; the log rows it covers (seq <= data.last_seq) go in the same transaction."""

    document_id: object
    data: SnapshotData
    fence: int | None = None


class BaseStore:
    """What an actor needs of storage.

    `fence` is the cluster lease's fencing token (None in single-process mode):
    `load` claims the document for it, and `append` / `snapshot` raise
    StaleOwner once a higher token has claimed the document.
    """

    async def load(self, document_id, fence: int | None = None) -> Loaded:
        raise NotImplementedError("subclasses of BaseStore must provide load()")

    async def append(self, document_id, seq: int, update: bytes, fence: int | None = None) -> None:
        raise NotImplementedError("subclasses of BaseStore must provide append()")

    async def snapshot(self, document_id, data: SnapshotData, fence: int | None = None) -> int:
        """Store a snapshot, drop the log rows it covers; returns the snapshot's id."""
        raise NotImplementedError("subclasses of BaseStore must provide snapshot()")


class MemoryStore(BaseStore):
    """In-memory twin for tests of the actor.

    `fail` makes every call raise it, `fail_snapshots` only snapshots; while
    `hold_appends` is an unset asyncio.Event, appends wait for it before storing.
    """

    def __init__(self, documents=None):
        self.documents = set(documents or ())
        self.snapshots: dict[object, list[SnapshotData]] = {}
        self.log: dict[object, dict[int, bytes]] = {}
        self.fail: Exception | None = None
        self.failures = 0
        self.failed = asyncio.Event()  # set at the first call that raised `fail`
        self.writes = 0
        self.fences: dict[object, int] = {}
        self.fail_snapshots: Exception | None = None
        self.snapshot_failures = 0
        self.hold_appends: asyncio.Event | None = None
        self.append_started = asyncio.Event()  # set when an append begins (before any hold)

    def _check(self, document_id, fence=None, claim=False):
        if self.fail is not None:
            self.failures += 1
            self.failed.set()
            raise self.fail
        if document_id not in self.documents:
            raise DocumentGone(document_id)
        if fence is not None:
            if fence < self.fences.get(document_id, 0):
                raise StaleOwner(document_id)
            self.fences[document_id] = fence

    async def load(self, document_id, fence=None) -> Loaded:
        self._check(document_id, fence)
        snaps = self.snapshots.get(document_id, [])
        last_seq = snaps[-1].last_seq if snaps else 0
        log = self.log.get(document_id, {})
        updates = ([snaps[-1].state] if snaps else []) + [log[s] for s in sorted(log) if s > last_seq]
        return Loaded(updates, max([last_seq, *log]) + 1)

    async def append(self, document_id, seq, update, fence=None):
        self.append_started.set()
        if self.hold_appends is not None:
            await self.hold_appends.wait()
        self._check(document_id, fence)
        self.writes += 1
        self.log.setdefault(document_id, {})[seq] = update

    async def snapshot(self, document_id, data, fence=None):
        self._check(document_id, fence)
        if self.fail_snapshots is not None:
            self.snapshot_failures += 1
            raise self.fail_snapshots
        self.writes += 1
        self.snapshots.setdefault(document_id, []).append(data)
        log = self.log.get(document_id, {})
        for seq in [s for s in log if s <= data.last_seq]:
            del log[seq]
        return len(self.snapshots[document_id])


class BaseStorage:
    """The synchronous writes DjangoStore runs in its thread pool: one project's tables.

    Like a Django session backend: the engine says what it needs, the project
    (COLLAB_STORAGE, e.g. documents.storage.DocumentStorage) says how its
    models hold it. Each method runs in a worker thread, inside no transaction:
    `snapshot` must store the snapshot and drop the log rows it covers in one.
    Fencing as in BaseStore: raise StaleOwner or DocumentGone.
    """

    def load(self, document_id, fence: int | None) -> Loaded:
        raise NotImplementedError("subclasses of BaseStorage must provide load()")

    def append(self, document_id, seq: int, update: bytes, fence: int | None) -> None:
        raise NotImplementedError("subclasses of BaseStorage must provide append()")

    def snapshot(self, document_id, data: SnapshotData, fence: int | None) -> int:
        raise NotImplementedError("subclasses of BaseStorage must provide snapshot()")

    def write_batch(self, writes: list) -> list:
        """Store many documents' writes (LogAppend, SnapshotWrite), in one transaction if it can.

        Returns one outcome per write, in order: None for a log row, the
        snapshot's id, or the exception refusing that write (StaleOwner,
        DocumentGone), returned, not raised: one refused document must not
        fail the others. An error of the whole batch (the database is down)
        is raised. Log rows are stored before snapshots, so that a snapshot
        in the batch drops exactly the rows it covers, whatever the order.

        This default writes each on its own (a transaction each): a project
        overrides it to commit the batch at once (documents.storage).
        """
        outcomes: list = [None] * len(writes)
        order = sorted(range(len(writes)), key=lambda i: isinstance(writes[i], SnapshotWrite))  # log rows first
        for i in order:
            write = writes[i]
            try:
                if isinstance(write, LogAppend):
                    outcomes[i] = self.append(write.document_id, write.seq, write.update, write.fence)
                else:
                    outcomes[i] = self.snapshot(write.document_id, write.data, write.fence)
            except (StaleOwner, DocumentGone) as exc:
                outcomes[i] = exc
        return outcomes


class DjangoStore(BaseStore):
    """Stores documents through the Django ORM, in threads of its own.

    Django's async ORM methods run every query on asgiref's one shared thread
    (thread_sensitive=True), so all documents' work would queue behind each
    other and behind every other sync_to_async call of the process. Here each
    operation is a plain synchronous function (of `storage`, COLLAB_STORAGE by
    default): loads run in a pool of `persist_threads` threads (in parallel,
    each thread keeping its connection); appends and snapshots go to the
    process's group commit (collab.writer), which writes every document's
    pending rows in one transaction (`storage.write_batch`), a snapshot with
    the deletion of the log rows it covers (which the async ORM cannot express).
    """

    def __init__(self, persist_threads: int = 4, storage: BaseStorage | None = None, batch_writes: int = 1000,
                 commit_interval: float = 0.0):
        self.storage = storage if storage is not None else storage_from_settings()
        self._executor = ThreadPoolExecutor(persist_threads, thread_name_prefix="collab-store")
        self.writer = GroupWriter(self._commit, batch_writes, commit_interval)

    async def _run(self, fn, *args):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(_with_connection, fn, *args))

    async def load(self, document_id, fence=None) -> Loaded:
        return await self._run(self.storage.load, document_id, fence)

    async def append(self, document_id, seq, update, fence=None):
        await self.writer.submit(LogAppend(document_id, seq, update, fence))

    async def snapshot(self, document_id, data, fence=None):
        return await self.writer.submit(SnapshotWrite(document_id, data, fence))

    def _commit(self, writes: list) -> list:
        """The group commit's transaction (in the writer's thread)."""
        try:
            return _with_connection(self.storage.write_batch, writes)
        except Exception as exc:
            if len(writes) == 1 or _is_outage(exc):
                raise
            # Not the database but something in one write (a value a column refuses): commit
            # each on its own, so that only the writes that cannot be stored fail.
            logger.warning("a batch of %d writes failed (%r); writing them one by one", len(writes), exc)
            outcomes: list = [None] * len(writes)
            for i in sorted(range(len(writes)), key=lambda i: isinstance(writes[i], SnapshotWrite)):  # rows first
                try:
                    outcomes[i] = _with_connection(self.storage.write_batch, [writes[i]])[0]
                except Exception as one:
                    outcomes[i] = one
            return outcomes


def _is_outage(exc: Exception) -> bool:
    """Is this the database failing (down, unreachable, locked) rather than one write's content?"""
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, (InterfaceError, OperationalError))


def _with_connection(fn, *args):
    from django.db import close_old_connections

    # As around a request: drop a connection that broke or aged out, so that a
    # database outage heals by itself once the server is back.
    close_old_connections()
    try:
        return fn(*args)
    finally:
        close_old_connections()


def storage_from_settings() -> BaseStorage:
    """The project's BaseStorage, named by COLLAB_STORAGE."""
    return backend("STORAGE", CollabConfig.from_settings().storage, BaseStorage)


def store_from_config(config) -> BaseStore:
    cls = import_string(config.store)
    if cls is DjangoStore:
        return cls(config.persist_threads, backend("STORAGE", config.storage, BaseStorage), config.batch_writes,
                   config.commit_interval)
    return cls()

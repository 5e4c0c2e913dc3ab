"""Where actors keep documents: one small interface, a Django backend, an in-memory twin.

A document is stored as its latest snapshot (full state) plus the update-log
rows written after it. The actor calls these coroutines from its writer, one
at a time per document.
"""

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

from django.utils.module_loading import import_string

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


class DjangoStore(BaseStore):
    """Stores documents through the Django ORM in a thread pool of its own.

    Django's async ORM methods run every query on asgiref's one shared thread
    (thread_sensitive=True), so all documents' writes would queue behind each
    other and behind every other sync_to_async call of the process. Here each
    operation is a plain synchronous function run in a dedicated pool of
    `persist_threads` threads: documents are written in parallel, each thread
    keeps its own connection, and a snapshot plus the deletion of the log rows
    it covers is one transaction (which the async ORM cannot express).
    """

    def __init__(self, persist_threads: int = 4):
        self._executor = ThreadPoolExecutor(persist_threads, thread_name_prefix="collab-store")

    async def _run(self, fn, *args):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(_with_connection, fn, *args))

    async def load(self, document_id, fence=None) -> Loaded:
        return await self._run(_load, document_id, fence)

    async def append(self, document_id, seq, update, fence=None):
        await self._run(_append, document_id, seq, update, fence)

    async def snapshot(self, document_id, data, fence=None):
        return await self._run(_snapshot, document_id, data, fence)


def _with_connection(fn, *args):
    from django.db import close_old_connections

    # As around a request: drop a connection that broke or aged out, so that a
    # database outage heals by itself once the server is back.
    close_old_connections()
    try:
        return fn(*args)
    finally:
        close_old_connections()


def _claim(document_id, fence, **changes) -> None:
    """Record that `fence` writes this document now; StaleOwner if a newer one did.

    Runs inside the write's transaction, so the check and the write are atomic.
    """
    from django.db.models import F, Q

    from documents.models import Document

    condition = Q(pk=document_id)
    if fence is not None:
        condition &= Q(fence__lte=fence)
        changes["fence"] = fence
    if not changes:
        changes["fence"] = F("fence")  # a no-op update: still tells whether the row exists
    if Document.objects.filter(condition).update(**changes) == 0:
        current = Document.objects.filter(pk=document_id).values_list("fence", flat=True).first()
        if current is not None:
            # Said here, where it is certain: the actor may be abandoned before it hears of it.
            logger.warning("document %s: refused a write with fence %s, a newer owner holds fence %s (StaleOwner)",
                           document_id, fence, current)
            raise StaleOwner(document_id)
        raise DocumentGone(document_id)


def _load(document_id, fence) -> Loaded:
    from django.db import transaction
    from django.db.models import Max

    from documents.models import Snapshot, UpdateLog

    with transaction.atomic():
        _claim(document_id, fence)
        snap = (
            Snapshot.objects.filter(document_id=document_id).order_by("-id").values("state", "last_seq").first()
        )
        last_seq = snap["last_seq"] if snap else 0
        rows = UpdateLog.objects.filter(document_id=document_id, seq__gt=last_seq).order_by("seq")
        updates = ([bytes(snap["state"])] if snap else []) + [bytes(d) for d in rows.values_list("data", flat=True)]
        max_seq = UpdateLog.objects.filter(document_id=document_id).aggregate(m=Max("seq"))["m"] or 0
    return Loaded(updates, max(last_seq, max_seq) + 1)


def _append(document_id, seq, update, fence):
    from django.db import transaction
    from django.utils import timezone as dj_timezone

    from documents.models import UpdateLog

    with transaction.atomic():
        _claim(document_id, fence, updated_at=dj_timezone.now())
        UpdateLog.objects.create(document_id=document_id, seq=seq, data=update)


def _snapshot(document_id, data: SnapshotData, fence) -> int:
    from django.db import transaction

    from documents.content import preview_text
    from documents.models import Snapshot, UpdateLog

    preview = _storable(preview_text(data.state))[:200]
    with transaction.atomic():
        _claim(document_id, fence, updated_at=data.created_at)
        snap = Snapshot.objects.create(
            document_id=document_id,
            created_at=data.created_at,
            state=data.state,
            state_vector=data.state_vector,
            last_seq=data.last_seq,
            size=len(data.state),
            authors=sorted(_storable(a) for a in data.authors),
            preview=preview,
            label=_storable(data.label),
            kind=data.kind,
        )
        UpdateLog.objects.filter(document_id=document_id, seq__lte=data.last_seq).delete()
    return snap.pk


def _storable(text: str) -> str:
    """Text every database accepts: PostgreSQL refuses NUL (0x00) in text and JSON columns.

    Without this, one NUL typed into a document made its every snapshot fail.
    """
    return text.replace("\x00", "")


def store_from_config(config) -> BaseStore:
    cls = import_string(config.store)
    if cls is DjangoStore:
        return cls(config.persist_threads)
    return cls()

"""Keeping search's text current between snapshots: a debounced indexer fed by the storage layer.

A snapshot carries the whole state, so documents.storage indexes its text in
the snapshot's own transaction. Update-log rows carry only a diff, and
snapshots are minutes apart (COLLAB_SNAPSHOT_INTERVAL): so each committed
batch of log rows names its documents here (`schedule`), and one thread per
process reads each of them back from the store (latest snapshot + later log
rows) at most once per SEARCH_INDEX_DELAY while it is being edited (a word
typed is findable within about that, plus the durability window), never
per query.

The thread indexes from what the write path already has: `schedule` gets
each committed log row's update, a snapshot its state (`snapshotted`), and
the thread keeps the state it last indexed for each document, so that the
next pass merges the rows written since onto it, with no read. Only when it
knows no state for a document, or rows are missing (written by another
process), does it read the store. A known state is forgotten after FORGET
seconds without edits. (Reading every edited document back every
SEARCH_INDEX_DELAY was a tenth of the server's CPU at many-docs.)

The text is written with its stored position (documents.search.position):
whichever of this thread and a snapshot commits last, the newer text stays.
If the process dies with documents still scheduled, the next indexer to start
(in any process) finds them: their log has rows past their indexed position.
"""

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Exists, F, OuterRef

from . import list_feed, search
from .content import preview_text

logger = logging.getLogger(__name__)

# Documents read per transaction-free pass of the thread.
BATCH = 50
# A document's known state is dropped after this long without a log row or snapshot.
FORGET = 60.0


class Indexer:
    def __init__(self, delay: float):
        self.delay = delay
        self._due: dict = {}  # document id -> when to read it (time.monotonic())
        self._rows: dict = {}  # document id -> [(seq, update)] committed since it was last indexed
        self._known: dict = {}  # document id -> (last seq, state, last used): the state last indexed
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def schedule(self, document_ids, rows=None) -> None:
        """Index these documents' text again within `delay` (a document already waiting keeps its time).

        `rows`: {document id: [(seq, update)]}, the log rows just committed.
        """
        if not document_ids:
            return
        at = time.monotonic() + self.delay
        with self._wake:
            for document_id, committed in (rows or {}).items():
                self._rows.setdefault(document_id, []).extend(committed)
            # Every new time is later than those waiting: the thread needs waking only if none was
            # (else it woke, rescanned and slept again at every commit: ~5 % of the server's CPU at many-docs).
            idle = not self._due
            for document_id in document_ids:
                self._due.setdefault(document_id, at)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="search-indexer", daemon=True)
                self._thread.start()
            if idle:
                self._wake.notify()

    def _run(self) -> None:
        try:
            self.schedule(_unindexed())  # left behind by a process that died
        except Exception:
            logger.exception("search: could not look for documents left unindexed")
        finally:
            close_old_connections()
        while True:
            with self._wake:
                while True:
                    now = time.monotonic()
                    ready = [d for d, at in self._due.items() if at <= now][:BATCH]
                    if ready:
                        break
                    self._wake.wait(min(self._due.values()) - now if self._due else None)
                for document_id in ready:
                    del self._due[document_id]
            self._forget(now)
            for document_id in ready:
                try:
                    self._index(document_id)
                except Exception:
                    # This document's content or a database hiccup: the next edit schedules it again.
                    logger.exception("search: could not index document %s", document_id)
                    continue
                try:
                    # Search has the new text (from here, or from a snapshot taken meanwhile): open lists
                    # show the new time and words (documents.list_feed).
                    list_feed.text_indexed(document_id)
                except Exception:
                    logger.warning("search: could not tell open lists that %s changed", document_id, exc_info=True)
            close_old_connections()


    def snapshotted(self, states: dict) -> None:
        """{document id: (last seq, state)}: snapshots just committed (their text is indexed with them)."""
        now = time.monotonic()
        with self._wake:
            for document_id, (last_seq, state) in states.items():
                known = self._known.get(document_id)
                if known is None or known[0] <= last_seq:
                    self._known[document_id] = (last_seq, state, now)
                rows = self._rows.get(document_id)
                if rows:
                    self._rows[document_id] = [row for row in rows if row[0] > last_seq]

    def _forget(self, now: float) -> None:
        with self._wake:
            for document_id in [d for d, known in self._known.items() if known[2] < now - FORGET]:
                del self._known[document_id]

    def _index(self, document_id) -> None:
        from pycrdt import merge_updates

        with self._wake:
            rows = sorted(self._rows.pop(document_id, ()))
            known = self._known.get(document_id)
        if known is not None:
            last_seq, state = known[0], known[1]
            rows = [(seq, update) for seq, update in rows if seq > last_seq]
            if not rows:
                return  # nothing past what is indexed
            if all(seq == last_seq + 1 + i for i, (seq, _) in enumerate(rows)):
                state = merge_updates(state, *[update for _, update in rows])
                _store(document_id, state, rows[-1][0])
                self._remember(document_id, rows[-1][0], state)
                return
        read = reindex(document_id)  # nothing known, or rows this process did not write
        if read is not None:
            self._remember(document_id, *read)

    def _remember(self, document_id, last_seq: int, state: bytes) -> None:
        with self._wake:
            known = self._known.get(document_id)
            if known is None or known[0] <= last_seq:
                self._known[document_id] = (last_seq, state, time.monotonic())


def _store(document_id, state: bytes, last_seq: int) -> None:
    search.store_body(document_id, preview_text(state), search.position(last_seq, snapshot=False))


def reindex(document_id):
    """Index the document's stored text: its latest snapshot plus the log rows after it.

    Returns (last seq, state) of what it indexed, or None if it indexed nothing.
    """
    from pycrdt import merge_updates

    from .models import Snapshot, UpdateLog

    for _attempt in range(3):
        snap = Snapshot.objects.filter(document_id=document_id).order_by("-id").values("id", "state", "last_seq").first()
        last_seq = snap["last_seq"] if snap else 0
        rows = list(UpdateLog.objects.filter(document_id=document_id, seq__gt=last_seq).order_by("seq")
                    .values_list("seq", "data"))
        # Log rows go only when a snapshot covers them: if none was taken meanwhile, these are complete.
        latest = Snapshot.objects.filter(document_id=document_id).order_by("-id").values_list("id", flat=True).first()
        if latest == (snap["id"] if snap else None):
            break
    else:
        return None  # snapshots keep coming: each indexes itself
    updates = ([bytes(snap["state"])] if snap else []) + [bytes(data) for _seq, data in rows]
    if not rows:
        return (last_seq, updates[0]) if updates else None  # the snapshot's own text is indexed already
    state = merge_updates(*updates)
    _store(document_id, state, rows[-1][0])
    return rows[-1][0], state


def _unindexed() -> list:
    """Documents with log rows past their indexed position."""
    from .models import SearchText, UpdateLog

    behind = UpdateLog.objects.filter(document_id=OuterRef("document_id")).annotate(at=F("seq") * 2).filter(
        at__gt=OuterRef("position"))
    return list(SearchText.objects.filter(Exists(behind)).values_list("document_id", flat=True)[:10_000])


_indexer: Indexer | None = None
_lock = threading.Lock()


def _the_indexer() -> Indexer:
    global _indexer
    if _indexer is None:
        with _lock:
            if _indexer is None:
                _indexer = Indexer(getattr(settings, "SEARCH_INDEX_DELAY", 5.0))
    return _indexer


def schedule(rows: dict) -> None:
    """documents.storage: {document id: [(seq, update)]}, log rows just committed."""
    if rows:
        _the_indexer().schedule(set(rows), rows)


def snapshotted(states: dict) -> None:
    """documents.storage: {document id: (last seq, state)}, snapshots just committed."""
    if states and _indexer is not None:  # nothing is known before the first log row
        _indexer.snapshotted(states)

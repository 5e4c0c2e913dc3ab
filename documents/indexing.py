"""Keeping search's text current between snapshots: a debounced indexer fed by the storage layer.

A snapshot carries the whole state, so documents.storage indexes its text in
the snapshot's own transaction. Update-log rows carry only a diff, and
snapshots are minutes apart (COLLAB_SNAPSHOT_INTERVAL): so each committed
batch of log rows names its documents here (`schedule`), and one thread per
process reads each of them back from the store (latest snapshot + later log
rows) at most once per SEARCH_INDEX_DELAY while it is being edited (a word
typed is findable within about that, plus the durability window), never
per query.

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

from . import search
from .content import preview_text

logger = logging.getLogger(__name__)

# Documents read per transaction-free pass of the thread.
BATCH = 50


class Indexer:
    def __init__(self, delay: float):
        self.delay = delay
        self._due: dict = {}  # document id -> when to read it (time.monotonic())
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def schedule(self, document_ids) -> None:
        """Read these documents' text again within `delay` (a document already waiting keeps its time)."""
        if not document_ids:
            return
        at = time.monotonic() + self.delay
        with self._wake:
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
            for document_id in ready:
                try:
                    reindex(document_id)
                except Exception:
                    # This document's content or a database hiccup: the next edit schedules it again.
                    logger.exception("search: could not index document %s", document_id)
            close_old_connections()


def reindex(document_id) -> None:
    """Index the document's stored text: its latest snapshot plus the log rows after it."""
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
        return  # snapshots keep coming: each indexes itself
    updates = ([bytes(snap["state"])] if snap else []) + [bytes(data) for _seq, data in rows]
    if not rows:
        return  # the snapshot's own text is indexed already
    text = preview_text(merge_updates(*updates))
    search.store_body(document_id, text, search.position(rows[-1][0], snapshot=False))


def _unindexed() -> list:
    """Documents with log rows past their indexed position."""
    from .models import SearchText, UpdateLog

    behind = UpdateLog.objects.filter(document_id=OuterRef("document_id")).annotate(at=F("seq") * 2).filter(
        at__gt=OuterRef("position"))
    return list(SearchText.objects.filter(Exists(behind)).values_list("document_id", flat=True)[:10_000])


_indexer: Indexer | None = None
_lock = threading.Lock()


def schedule(document_ids) -> None:
    """documents.storage: these documents' log grew (after the commit)."""
    global _indexer
    if not document_ids:
        return
    if _indexer is None:
        with _lock:
            if _indexer is None:
                _indexer = Indexer(getattr(settings, "SEARCH_INDEX_DELAY", 5.0))
    _indexer.schedule(document_ids)

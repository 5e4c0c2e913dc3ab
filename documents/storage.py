"""Where the real-time engine's documents are stored: this app's tables (COLLAB_STORAGE).

collab.store.DjangoStore runs these methods in its thread pool: a document is
its latest Snapshot row plus the UpdateLog rows written after it, and
Document.fence records the highest cluster fencing token that has written it
(collab.cluster), so that a paused or partitioned old owner cannot overwrite
a newer one.
"""

import logging

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from collab.store import BaseStorage, DocumentGone, Loaded, SnapshotData, StaleOwner

from .content import preview_text
from .models import Document, Snapshot, UpdateLog

logger = logging.getLogger(__name__)


class DocumentStorage(BaseStorage):
    def load(self, document_id, fence) -> Loaded:
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

    def append(self, document_id, seq, update, fence) -> None:
        with transaction.atomic():
            _claim(document_id, fence, updated_at=timezone.now())
            UpdateLog.objects.create(document_id=document_id, seq=seq, data=update)

    def snapshot(self, document_id, data: SnapshotData, fence) -> int:
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


def _claim(document_id, fence, **changes) -> None:
    """Record that `fence` writes this document now; StaleOwner if a newer one did.

    Runs inside the write's transaction, so the check and the write are atomic.
    """
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


def _storable(text: str) -> str:
    """Text every database accepts: PostgreSQL refuses NUL (0x00) in text and JSON columns.

    Without this, one NUL typed into a document made its every snapshot fail.
    """
    return text.replace("\x00", "")

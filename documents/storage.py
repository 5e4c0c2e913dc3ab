"""Where the real-time engine's documents are stored: this app's tables (COLLAB_STORAGE).

collab.store.DjangoStore runs these methods in its thread pool: a document is
its latest Snapshot row plus the UpdateLog rows written after it, and
Document.fence records the highest cluster fencing token that has written it
(collab.cluster), so that a paused or partitioned old owner cannot overwrite
a newer one.
"""

import logging

from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from collab.store import BaseStorage, DocumentGone, LogAppend, Loaded, SnapshotData, SnapshotWrite, StaleOwner

from . import indexing, search
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
        _outcome(self.write_batch([LogAppend(document_id, seq, update, fence)]))

    def snapshot(self, document_id, data: SnapshotData, fence) -> int:
        return _outcome(self.write_batch([SnapshotWrite(document_id, data, fence)]))

    def write_batch(self, writes) -> list:
        """Every document's pending writes in one transaction (collab.writer's group commit).

        One fencing check for the whole batch (`_claim_batch`): writes of a
        document that a newer owner claimed, or that was deleted, get their
        error and are left out; the others are stored: the log rows in one
        bulk insert, then the snapshots, each dropping the rows it covers
        (those of this batch included).
        """
        pk = Document._meta.pk
        keys = [pk.to_python(w.document_id) for w in writes]
        previews: list = [None] * len(writes)
        texts: dict = {}  # search's text of each snapshot (documents.search), read once with the preview
        for i, write in enumerate(writes):
            if isinstance(write, SnapshotWrite):
                try:
                    texts[i] = _storable(preview_text(write.data.state))
                    previews[i] = texts[i][:200]
                except Exception as exc:  # this document's content, not the batch's: it fails alone
                    previews[i] = exc
        now = timezone.now()
        with transaction.atomic():
            refused = _claim_batch(writes, keys, now)
            outcomes: list = [refused.get((key, w.fence)) for key, w in zip(keys, writes)]
            for i, preview in enumerate(previews):
                if isinstance(preview, Exception) and outcomes[i] is None:
                    outcomes[i] = preview
            ok = [i for i, outcome in enumerate(outcomes) if outcome is None]
            _insert_log_rows([(keys[i], writes[i].seq, writes[i].update) for i in ok
                              if isinstance(writes[i], LogAppend)], now)
            snapshots = [i for i in ok if isinstance(writes[i], SnapshotWrite)]
            rows = Snapshot.objects.bulk_create([_snapshot_row(keys[i], writes[i].data, previews[i]) for i in snapshots])
            covered = Q(pk__in=[])
            for i, row in zip(snapshots, rows):
                outcomes[i] = row.pk
                covered |= Q(document_id=keys[i], seq__lte=writes[i].data.last_seq)
            if snapshots:
                UpdateLog.objects.filter(covered).delete()
            for i in snapshots:
                search.store_body(keys[i], texts[i], search.position(writes[i].data.last_seq, snapshot=True))
        # Log rows carry no text: the indexer merges them onto the text it knows, debounced, after the commit.
        logged: dict = {}
        for i in ok:
            if isinstance(writes[i], LogAppend):
                logged.setdefault(keys[i], []).append((writes[i].seq, writes[i].update))
        indexing.snapshotted({keys[i]: (writes[i].data.last_seq, writes[i].data.state) for i in snapshots})
        indexing.schedule(logged)
        return outcomes


def _insert_log_rows(rows: list, now) -> None:
    """UpdateLog rows (document id, seq, update bytes) in one executemany on the raw cursor.

    The group commit's hot path: the ORM's bulk_create built a model object
    and compiled its SQL for every row, ~40 % of the writer thread's CPU at
    many-docs (bench/results/profile-many-docs.md). Values are prepared by the
    fields themselves, so that each backend stores them as the ORM would.
    """
    if not rows:
        return
    meta = UpdateLog._meta
    fields = [meta.get_field("document"), meta.get_field("seq"), meta.get_field("data"), meta.get_field("created_at")]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields)))
    document, seq, data, created = fields
    created_at = created.get_db_prep_value(now, connection)
    params = [(document.get_db_prep_value(key, connection), seq.get_db_prep_value(n, connection),
               data.get_db_prep_value(update, connection), created_at) for key, n, update in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _outcome(outcomes: list):
    """The one outcome of a batch of one: its result, or its error raised."""
    if isinstance(outcomes[0], Exception):
        raise outcomes[0]
    return outcomes[0]


def _snapshot_row(document_id, data: SnapshotData, preview: str) -> Snapshot:
    return Snapshot(
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


def _claim_batch(writes, keys, now) -> dict:
    """`_claim` for a batch: {(document, fence): StaleOwner or DocumentGone} for the writes refused.

    Inside the batch's transaction. The documents' rows are locked in one
    query, in key order (on PostgreSQL; SQLite's IMMEDIATE transaction holds
    the whole database): no newer owner can claim them before the commit, and
    two processes' batches meeting during a takeover cannot deadlock. A write
    is refused if its document is gone, or if a higher fence holds it (in the
    database, or in the same batch); the others record their fence.
    """
    current = _lock_fences(set(keys))
    newest = dict(current)
    for key, write in zip(keys, writes):
        if key in newest and write.fence is not None:
            newest[key] = max(newest[key], write.fence)
    refused, accepted = {}, {}
    for key, write in zip(keys, writes):
        if key not in current:
            refused[(key, write.fence)] = DocumentGone(key)
        elif write.fence is not None and write.fence < newest[key]:
            if (key, write.fence) not in refused:
                # Said here, where it is certain: the actor may be abandoned before it hears of it.
                logger.warning("document %s: refused a write with fence %s, a newer owner holds fence %s "
                               "(StaleOwner)", key, write.fence, newest[key])
            refused[(key, write.fence)] = StaleOwner(key)
        else:
            accepted.setdefault(write.fence, set()).add(key)
    for fence, ids in accepted.items():
        _touch(ids, now, fence)
    return refused


# _claim_batch runs at every group commit: its two statements go to the raw cursor, as the
# log rows do, since compiling them through the ORM was half the writer thread's CPU left.


def _lock_fences(keys: set) -> dict:
    """{document id: fence} of those of `keys` that exist, their rows locked (on PostgreSQL) in key order."""
    pk = Document._meta.pk
    quote = connection.ops.quote_name
    sql = "SELECT {pk}, {fence} FROM {table} WHERE {pk} IN ({marks}) ORDER BY {pk}".format(
        pk=quote(pk.column), fence=quote(Document._meta.get_field("fence").column),
        table=quote(Document._meta.db_table), marks=", ".join(["%s"] * len(keys)))
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk.get_db_prep_value(key, connection) for key in keys])
        return {pk.to_python(key): fence for key, fence in cursor.fetchall()}


def _touch(ids: set, now, fence) -> None:
    """These documents were written at `now` (by `fence`, if in a cluster)."""
    meta = Document._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field("updated_at")] + ([meta.get_field("fence")] if fence is not None else [])
    values = [f.get_db_prep_value(v, connection) for f, v in zip(columns, (now, fence))]
    sql = "UPDATE {table} SET {sets} WHERE {pk} IN ({marks})".format(
        table=quote(meta.db_table), sets=", ".join(f"{quote(f.column)} = %s" for f in columns),
        pk=quote(meta.pk.column), marks=", ".join(["%s"] * len(ids)))
    with connection.cursor() as cursor:
        cursor.execute(sql, values + [meta.pk.get_db_prep_value(key, connection) for key in ids])


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

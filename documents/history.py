"""A document's version history: reading versions, naming them, restoring one live.

A version is a `Snapshot` row. Lists of versions never load the encoded
state (it can be large, and a document can have thousands): they read the
columns kept for that purpose (size, authors, preview) through
`versions_of`. Only a view, a comparison or a restore loads a state.

Selectors read, services write (`version_name`, `version_restore`); the
admin views are thin adapters over these.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timezone as dt_timezone

from asgiref.sync import async_to_sync
from django.db.models import Q, QuerySet
from django.utils import timezone

from .diff import compare
from .models import Document, Snapshot
from .restore import EDIT

logger = logging.getLogger(__name__)

# What a list of versions shows; never `state` or `state_vector`.
LIST_FIELDS = ("id", "document_id", "created_at", "size", "authors", "preview", "label", "kind", "summary")


def versions_of(document: Document) -> QuerySet[Snapshot]:
    """The document's versions, newest first, without their encoded state."""
    return Snapshot.objects.filter(document=document).only(*LIST_FIELDS).order_by("-created_at", "-id")


def version_get(document: Document, version_id) -> Snapshot:
    """One version of the document, state included. Raises Snapshot.DoesNotExist."""
    return Snapshot.objects.get(document=document, pk=version_id)


def version_before(version: Snapshot) -> Snapshot | None:
    """The version just before this one (None for the first), state included."""
    return (
        Snapshot.objects.filter(document_id=version.document_id)
        .filter(Q(created_at__lt=version.created_at) | Q(created_at=version.created_at, id__lt=version.pk))
        .order_by("-created_at", "-id")
        .first()
    )


def version_after(version: Snapshot) -> Snapshot | None:
    """The version just after this one (None for the newest), state included."""
    return (
        Snapshot.objects.filter(document_id=version.document_id)
        .filter(Q(created_at__gt=version.created_at) | Q(created_at=version.created_at, id__gt=version.pk))
        .order_by("created_at", "id")
        .first()
    )


def version_latest(document: Document) -> Snapshot | None:
    return Snapshot.objects.filter(document=document).order_by("-created_at", "-id").first()


def version_name(*, version: Snapshot, label: str) -> Snapshot:
    """Give a version a label (an empty one removes it).

    A labelled automatic version becomes a named one, which retention never
    thins; removing the label of a named version makes it automatic again.
    Restore versions keep their kind whatever their label.
    """
    label = label.strip()[: Snapshot._meta.get_field("label").max_length]
    version.label = label
    if version.kind == Snapshot.Kind.AUTO and label:
        version.kind = Snapshot.Kind.NAMED
    elif version.kind == Snapshot.Kind.NAMED and not label:
        version.kind = Snapshot.Kind.AUTO
    version.save(update_fields=["label", "kind"])
    return version


def restore_label(version: Snapshot, username: str = "") -> str:
    """The label of the version a restore creates: "Restored from <the version's time> by <user>"."""
    label = f"Restored from {timezone.localtime(version.created_at):%Y-%m-%d %H:%M:%S %Z}"
    return f"{label} by {username}" if username else label


@dataclass(frozen=True)
class Restored:
    # The version made by the restore (kind "restore").
    version: Snapshot
    # How many blocks the restore deleted or inserted (0: the content already matched).
    blocks_changed: int


def version_restore(*, version: Snapshot, user) -> Restored:
    """Make the document's live content equal to `version`'s, as a new forward edit (sync: the admin)."""
    restored_id, changed = async_to_sync(arestore)(version=version, user=user)
    return Restored(Snapshot.objects.only(*LIST_FIELDS).get(pk=restored_id), changed)


async def arestore(*, version: Snapshot, user) -> tuple[int, int]:
    """Restore `version` live; returns (the id of the version recording it, blocks changed).

    The change is computed and applied by the document's actor, in its turn
    (documents.restore.restore_state, a named edit: collab.live.versioned_edit),
    so that two restores at once run one after the other and never insert a
    version's blocks twice; every open editor receives it at once and sees a
    notice (the `restored` field of the server's awareness entry). The version
    "Restored from <time> by <user>" is stored before the change goes live:
    if the database refuses it, collab.live.Unavailable and nothing changed.
    `version` must have its state loaded.
    """
    # Deferred: `documents` must import without the real-time engine's
    # modules (and their settings) being loaded, e.g. for migrations.
    from collab import live

    username = user.get_username() if user is not None else ""
    notice = {"restored": {
        "by": username,
        "version": version.pk,
        "version_time": _iso(version.created_at),
        "at": _iso(timezone.now()),
    }}
    answer = await live.versioned_edit(
        version.document_id, EDIT, bytes(version.state), author=username,
        label=restore_label(version, username), kind=Snapshot.Kind.RESTORE, notice=notice,
    )
    return answer["version"], answer["result"]


def _iso(moment) -> str:
    return moment.astimezone(dt_timezone.utc).isoformat().replace("+00:00", "Z")


# --- what changed ---------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def summary_of(before: bytes | None, after: bytes) -> dict:
    """Blocks and words added and removed from `before` (None: an empty document) to `after`."""
    comparison = compare(bytes(before or b""), bytes(after))
    return {
        "blocks_added": comparison.added,
        "blocks_removed": comparison.removed,
        "words_added": sum(len(_WORD.findall(text)) for text in comparison.inserted),
        "words_removed": sum(len(_WORD.findall(text)) for text in comparison.deleted),
    }


def summarize(versions) -> None:
    """Fill in `summary` of the versions that have none yet, and keep it on their rows.

    Done once per version (the first time a list shows it): a list of
    versions whose summaries are known loads no state at all.
    """
    for version in versions:
        if version.summary is not None:
            continue
        state = Snapshot.objects.filter(pk=version.pk).values_list("state", flat=True).first()
        if state is None:
            continue  # deleted meanwhile (retention)
        before = version_before(version)
        try:
            version.summary = summary_of(before.state if before is not None else None, state)
        except Exception:
            # A state that cannot be read must not break the list; it is not read again.
            logger.exception("version %s: could not summarize", version.pk)
            version.summary = dict.fromkeys(("blocks_added", "blocks_removed", "words_added", "words_removed"), 0)
        Snapshot.objects.filter(pk=version.pk).update(summary=version.summary)


def authors_between(older: Snapshot, newer: Snapshot) -> set[str]:
    """Usernames of who edited after `older` up to and including `newer` (their versions' authors)."""
    rows = (
        Snapshot.objects.filter(document_id=newer.document_id)
        .filter(Q(created_at__gt=older.created_at) | Q(created_at=older.created_at, id__gt=older.pk))
        .filter(Q(created_at__lt=newer.created_at) | Q(created_at=newer.created_at, id__lte=newer.pk))
        .values_list("authors", flat=True)
    )
    return {name for authors in rows for name in authors or ()}


def version_diff(older_state: bytes, newer_state: bytes, author: dict | None = None) -> list[dict]:
    """The structured diff from one state to another: blocks, each with its text as runs.

    `author` ({id, username}) is set on the inserted runs when one person
    made every change in between (authorship is recorded per version, not
    per character).
    """
    kinds = {"same": "same", "added": "inserted", "removed": "deleted", "changed": "changed"}
    blocks = []
    for row in compare(bytes(older_state), bytes(newer_state)).rows:
        runs = []
        for text, op in row.runs:
            run = {"text": text, "op": op}
            if op == "insert" and author is not None:
                run["author"] = author
            runs.append(run)
        blocks.append({"kind": kinds[row.kind], "type": row.type, "runs": runs})
    return blocks


def live_content(document: Document) -> bytes:
    """The document's content with every edit the server has received (open or not)."""
    from collab import live  # deferred, as in arestore

    state, _state_vector = async_to_sync(live.live_state)(document.pk)
    return state


def open_documents() -> dict[str, dict]:
    """What the live actors of this process say about their documents, by document id.

    Empty if the engine cannot be asked (e.g. from a management command,
    where no actor runs): the admin then shows every document as closed.
    """
    from collab import live  # deferred, as in arestore

    try:
        reports = async_to_sync(live.open_documents)()
    except Exception:
        logger.exception("could not ask the live actors which documents are open")
        return {}
    return {str(report["document"]): report for report in reports}


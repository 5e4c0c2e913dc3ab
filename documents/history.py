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
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from django.db.models import Q, QuerySet
from django.utils import timezone

from .content import doc_from_state
from .models import Document, Snapshot
from .restore import restore_into

logger = logging.getLogger(__name__)

# What a list of versions shows; never `state` or `state_vector`.
LIST_FIELDS = ("id", "document_id", "created_at", "size", "authors", "preview", "label", "kind")


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


def restore_label(version: Snapshot) -> str:
    """The label of the version a restore creates: "Restored from <the version's time>"."""
    return f"Restored from {timezone.localtime(version.created_at):%Y-%m-%d %H:%M:%S %Z}"


@dataclass(frozen=True)
class Restored:
    # The version made by the restore (kind "restore").
    version: Snapshot
    # How many blocks the restore deleted or inserted (0: the content already matched).
    blocks_changed: int


def version_restore(*, version: Snapshot, user) -> Restored:
    """Make the document's live content equal to `version`'s, as a new forward edit.

    The change goes through the document's actor (spawned if the document is
    not open), so every open editor receives it at once; then a version of
    kind "restore" is taken. Call from synchronous code (an admin view): the
    live part runs on the server's event loop, where the actors are.
    """
    target = doc_from_state(bytes(version.state))
    label = restore_label(version)
    username = user.get_username() if user is not None else ""
    restored_id, changed = async_to_sync(_restore_live)(version.document_id, target, label, username)
    return Restored(Snapshot.objects.only(*LIST_FIELDS).get(pk=restored_id), changed)


async def _restore_live(document_id, target, label: str, author: str) -> tuple[int, int]:
    # Deferred: `documents` must import without the real-time engine's
    # modules (and their settings) being loaded, e.g. for migrations.
    from pycrdt import Doc

    from collab import live

    state, state_vector = await live.live_state(document_id)
    doc = Doc()
    doc.apply_update(state)
    changed = restore_into(doc, target)
    if changed:
        # Computed against the live state and applied as an update on top of
        # it: an edit that reaches the actor in between merges with it.
        await live.apply_update(document_id, doc.get_update(state_vector), author)
    snapshot_id = await live.take_snapshot(document_id, label=label, kind=Snapshot.Kind.RESTORE)
    return snapshot_id, changed


def live_content(document: Document) -> bytes:
    """The document's content with every edit the server has received (open or not)."""
    from collab import live  # deferred, as in _restore_live

    state, _state_vector = async_to_sync(live.live_state)(document.pk)
    return state


def open_documents() -> dict[str, dict]:
    """What the live actors of this process say about their documents, by document id.

    Empty if the engine cannot be asked (e.g. from a management command,
    where no actor runs): the admin then shows every document as closed.
    """
    from collab import live  # deferred, as in _restore_live

    try:
        reports = async_to_sync(live.open_documents)()
    except Exception:
        logger.exception("could not ask the live actors which documents are open")
        return {}
    return {str(report["document"]): report for report in reports}


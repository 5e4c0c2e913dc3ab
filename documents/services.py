"""Write-side operations of the documents domain (HackSoft style: services write)."""

from django.db import transaction
from django.utils import timezone

from .models import ApiToken, Document, Membership, Role, Snapshot, hash_token


def document_create(*, owner, title: str = "", state: bytes | None = None, label: str = "") -> Document:
    """A new document owned by `owner`; with `state` (an encoded Yjs update, e.g. an import), that is its content.

    The state is stored as the document's first version (named `label`, if
    given), in the same transaction: the document never exists without it.
    """
    title = title.strip()[: Document._meta.get_field("title").max_length] or "Untitled document"
    with transaction.atomic():
        document = Document.objects.create(owner=owner, title=title)
        if state:
            from pycrdt import get_state

            from collab.store import SnapshotData

            from .storage import DocumentStorage

            kind = Snapshot.Kind.NAMED if label else Snapshot.Kind.AUTO
            data = SnapshotData(state=state, state_vector=get_state(state), last_seq=0,
                                authors=(owner.get_username(),), label=label, kind=kind)
            DocumentStorage().snapshot(document.pk, data, None)
    return document


def membership_set(*, document: Document, user, role: Role | None) -> None:
    """Give `user` a role on `document` (None removes it). The owner's role is fixed."""
    if user.pk == document.owner_id:
        raise ValueError("The owner's role cannot be changed")
    with transaction.atomic():
        if role is None:
            Membership.objects.filter(document=document, user=user).delete()
        else:
            if role == Role.OWNER:
                raise ValueError("A document has exactly one owner")
            Membership.objects.update_or_create(document=document, user=user, defaults={"role": role})


def token_create(*, user, name: str = "") -> tuple[ApiToken, str]:
    """Make a new API token; returns it with the raw secret, which is not stored."""
    raw = ApiToken.new_raw()
    token = ApiToken.objects.create(user=user, name=name, key_hash=hash_token(raw), hint=raw[:12])
    return token, raw


def token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def document_rename(*, document: Document, title: str) -> Document:
    document.title = title.strip()[: Document._meta.get_field("title").max_length] or "Untitled document"
    document.save(update_fields=["title", "updated_at"])
    return document


def document_delete(*, document: Document) -> None:
    document.delete()

"""Read-side queries of the documents domain (HackSoft style: selectors read)."""

import hmac
import uuid
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from .models import ApiToken, Document, Membership, Role, hash_token


# How stale ApiToken.last_used_at may be.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class NoSuchDocument(Exception):
    """The document does not exist (or the id is not a UUID)."""


def document_role(user, document_id) -> Role | None:
    """The caller's role on a document, None if they have none.

    Raises NoSuchDocument if there is no such document.
    """
    try:
        document_id = uuid.UUID(str(document_id))
    except ValueError:
        raise NoSuchDocument(document_id) from None
    owner_id = Document.objects.filter(pk=document_id).values_list("owner_id", flat=True).first()
    if owner_id is None:
        raise NoSuchDocument(document_id)
    if user is None or not user.is_authenticated:
        return None
    if owner_id == user.pk:
        return Role.OWNER
    role = Membership.objects.filter(document_id=document_id, user=user).values_list("role", flat=True).first()
    return Role(role) if role else None


def documents_visible_to(user):
    """Documents the user owns or has a role on, most recently edited first."""
    return (
        Document.objects.filter(Q(owner=user) | Q(memberships__user=user))
        .distinct()
        .select_related("owner")
    )


def token_for_raw(raw: str):
    """The active ApiToken (with its user) a raw bearer token stands for, or None.

    Looks the token up by its SHA-256 (an index lookup), then compares the
    hashes in constant time so that the check does not leak timing.
    """
    if not raw or not raw.startswith(ApiToken.PREFIX):
        return None
    digest = hash_token(raw)
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, digest):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        # At most one write a minute per token: scripts and sockets connect often.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def user_for_token(raw: str):
    """The active user a bearer token belongs to, or None."""
    token = token_for_raw(raw)
    return token.user if token else None

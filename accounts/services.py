"""Write side of invitations and share links (HackSoft style: services write)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from documents.models import Document, Role
from documents.selectors import document_role
from documents.services import membership_set

from .models import Invitation, ShareLink, hash_key, new_key, role_rank


class Unusable(Exception):
    """The invitation or link no longer works (used, expired, revoked, or its document deleted)."""


def grant(*, document: Document, user, role: Role) -> Role:
    """Give `user` at least `role` on `document`: a role they already hold that is more powerful is
    kept (a viewer link never demotes an editor, and the owner stays the owner). Returns their role."""
    current = document_role(user, document.pk)
    if current is not None and role_rank(current) <= role_rank(role):
        return Role(current)
    membership_set(document=document, user=user, role=role)
    return role


def user_by_email(email: str):
    """The active account with this address (as its primary address or one it confirmed), or None."""
    from allauth.account.models import EmailAddress

    User = get_user_model()
    found = EmailAddress.objects.filter(email__iexact=email, verified=True, user__is_active=True).first()
    if found is not None:
        return found.user
    return User.objects.filter(email__iexact=email, is_active=True).order_by("pk").first()


def invitation_create(*, document: Document, email: str, role: Role, invited_by) -> tuple[Invitation, str]:
    """A new invitation (an earlier pending one to the same address for this document is replaced,
    so that one link works, the latest); returns it with the raw key for the e-mail."""
    raw = new_key()
    with transaction.atomic():
        Invitation.objects.filter(document=document, email__iexact=email, accepted_at__isnull=True).delete()
        invitation = Invitation.objects.create(
            document=document, email=email, role=role, invited_by=invited_by, key_hash=hash_key(raw)
        )
    return invitation, raw


def invitation_cancel(*, invitation: Invitation) -> None:
    invitation.delete()


def invitation_accept(*, invitation: Invitation, user) -> Role:
    """`user` takes the invitation: they get its role; the invitation is spent."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().select_related("document").get(pk=invitation.pk)
        if not invitation.usable:
            raise Unusable(invitation)
        role = grant(document=invitation.document, user=user, role=Role(invitation.role))
        invitation.accepted_at, invitation.accepted_by = timezone.now(), user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return role


def link_create(*, document: Document, role: Role, created_by, lifetime: timedelta | None) -> ShareLink:
    expires_at = timezone.now() + lifetime if lifetime else None
    return ShareLink.objects.create(
        document=document, role=role, key=new_key(), created_by=created_by, expires_at=expires_at
    )


def link_revoke(*, link: ShareLink) -> None:
    """The link stops working; whoever already joined through it keeps their role."""
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])


def link_use(*, link: ShareLink, user) -> Role:
    """`user` signs in through the link: they get its role (unless they hold a more powerful one)."""
    with transaction.atomic():
        link = ShareLink.objects.select_for_update().select_related("document").get(pk=link.pk)
        if not link.usable:
            raise Unusable(link)
        before = document_role(user, link.document_id)
        role = grant(document=link.document, user=user, role=Role(link.role))
        if before is None:
            ShareLink.objects.filter(pk=link.pk).update(uses=F("uses") + 1)
    return role

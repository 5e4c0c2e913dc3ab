"""Invitations by e-mail and share links: two ways for an owner to give a role on a document to
someone who may not have an account yet. Both end in a `documents.Membership` when accepted; they
hold no access of their own, so revoking or expiring one never takes a role away from anyone."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from documents.models import Document, Role


def grantable_roles() -> list[tuple[str, str]]:
    """The roles an invitation or a link may grant: every document role but the owner's, in the
    model's order (most powerful first), so that a role added to `Role` is offered by itself."""
    return [(role.value, role.label) for role in Role if role != Role.OWNER]


def role_rank(role) -> int:
    """Lower is more powerful: the order of `Role`'s declaration."""
    return list(Role).index(Role(role))


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_key() -> str:
    return secrets.token_urlsafe(24)


# How long an invitation's link stays valid.
INVITATION_LIFETIME = timedelta(days=14)


class Invitation(models.Model):
    """An owner asked for `email` to have `role` on `document`. Only the SHA-256 of the link's key is
    kept: the key itself is in the e-mail alone."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} invited to {self.document} as {self.role}"

    @property
    def expires_at(self):
        return self.created_at + INVITATION_LIFETIME

    @property
    def usable(self) -> bool:
        return self.accepted_at is None and timezone.now() < self.expires_at


class ShareLink(models.Model):
    """Whoever signs in through this link gets `role` on `document`, until it expires or is revoked.

    The key is kept as it is: it is the link, and its owner copies it again from the share dialog."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="share_links")
    role = models.CharField(max_length=10, choices=Role.choices)
    key = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # How many people got a role through it (for the owner's list).
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.role} link to {self.document}"

    @property
    def usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or timezone.now() < self.expires_at)

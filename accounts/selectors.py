"""Read side of invitations and share links."""

from .models import Invitation, ShareLink, hash_key


def invitation_by_key(raw: str) -> Invitation | None:
    """The invitation a link's key stands for (whether or not still usable), or None."""
    if not raw:
        return None
    return Invitation.objects.select_related("document", "invited_by").filter(key_hash=hash_key(raw)).first()


def link_by_key(raw: str) -> ShareLink | None:
    if not raw:
        return None
    return ShareLink.objects.select_related("document", "created_by").filter(key=raw).first()


def pending_invitations(document) -> list[Invitation]:
    return [i for i in Invitation.objects.filter(document=document, accepted_at__isnull=True) if i.usable]


def active_links(document) -> list[ShareLink]:
    """The links of `document` that still work, newest first (revoked and expired ones are not shown)."""
    return [link for link in ShareLink.objects.filter(document=document, revoked_at__isnull=True) if link.usable]

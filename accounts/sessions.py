"""What a visitor who opened an invitation carries in their session until they have an account.

Opening an invitation's link proves that the visitor reads that mailbox: the address is stashed as
verified for allauth (so signing up with it needs no second e-mail) and the invitation is noted,
which opens sign-up to them even when SIGNUP_ENABLED is off.
"""

from allauth.account.adapter import get_adapter

_KEY = "accounts.invitation"


def remember_invitation(request, invitation) -> None:
    request.session[_KEY] = invitation.pk
    get_adapter(request).stash_verified_email(request, invitation.email)


def _pending(request):
    from .models import Invitation

    pk = request.session.get(_KEY) if hasattr(request, "session") else None
    invitation = Invitation.objects.filter(pk=pk).first() if pk is not None else None
    return invitation if invitation is not None and invitation.usable else None


def invitation_pending(request) -> bool:
    return _pending(request) is not None


def invited(request, email: str) -> bool:
    """Whether the visitor opened a pending invitation sent to `email`."""
    invitation = _pending(request)
    return invitation is not None and invitation.email.lower() == email.lower()


def forget_invitation(request) -> None:
    request.session.pop(_KEY, None)

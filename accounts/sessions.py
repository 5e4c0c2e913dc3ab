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


def invitation_pending(request) -> bool:
    from .models import Invitation

    pk = request.session.get(_KEY) if hasattr(request, "session") else None
    if pk is None:
        return False
    invitation = Invitation.objects.filter(pk=pk).first()
    return invitation is not None and invitation.usable


def forget_invitation(request) -> None:
    request.session.pop(_KEY, None)

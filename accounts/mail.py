"""The invitation e-mail, sent through allauth's adapter (Django's e-mail backend, the subject prefix
and sender of the other account e-mails)."""

from allauth.account.adapter import get_adapter
from django.urls import reverse

from documents.models import Role

from .models import INVITATION_LIFETIME


def send_invitation(request, invitation, raw_key: str) -> None:
    who = invitation.invited_by or request.user  # the API's caller may be a token's user, not request.user
    inviter = who.get_full_name() or who.get_username()
    get_adapter(request).send_mail("accounts/email/invitation", invitation.email, {
        "inviter": inviter,
        "document": invitation.document,
        "role_label": Role(invitation.role).label.lower(),
        "url": request.build_absolute_uri(reverse("invitation-open", args=[raw_key])),
        "days": INVITATION_LIFETIME.days,
    })

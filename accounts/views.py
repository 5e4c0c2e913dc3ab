"""The pages an invitation's or a share link's address opens. Thin: look the key up, accept it for a
signed-in visitor, otherwise ask them to sign in or sign up and come back here (`next`)."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from documents.models import Role

from . import selectors, services, sessions


def _unusable(request, title: str, message: str):
    return render(request, "accounts/unusable.html", {"title": title, "message": message}, status=410)


def _welcome(request, *, heading: str, document, role, signup_open: bool):
    here = request.get_full_path()
    return render(request, "accounts/welcome.html", {
        "heading": heading,
        "document": document,
        "role": Role(role),
        "signup_url": f"{reverse('account_signup')}?{urlencode({'next': here})}" if signup_open else None,
        "login_url": f"{reverse('login')}?{urlencode({'next': here})}",
    })


def _joined(request, document, role):
    messages.success(request, f"You can now open “{document.title}” as {Role(role).label.lower()}.")
    return redirect("document-edit", document_id=document.pk)


@require_GET
def invitation_open(request, key):
    invitation = selectors.invitation_by_key(key)
    if invitation is not None and invitation.accepted_by_id is not None and invitation.accepted_by_id == request.user.pk:
        return redirect("document-edit", document_id=invitation.document_id)
    if invitation is None or not invitation.usable:
        return _unusable(
            request, "This invitation no longer works",
            "It has been used already, has expired, or was withdrawn. Ask the document’s owner to invite you again.",
        )
    if not request.user.is_authenticated:
        sessions.remember_invitation(request, invitation)
        inviter = "Someone"
        if invitation.invited_by is not None:
            inviter = invitation.invited_by.get_full_name() or invitation.invited_by.get_username()
        return _welcome(request, heading=f"{inviter} invited you", document=invitation.document,
                        role=invitation.role, signup_open=True)
    try:
        role = services.invitation_accept(invitation=invitation, user=request.user)
    except services.Unusable:
        return _unusable(request, "This invitation no longer works", "It has just been used or withdrawn.")
    sessions.forget_invitation(request)
    return _joined(request, invitation.document, role)


@require_GET
def link_open(request, key):
    link = selectors.link_by_key(key)
    if link is None or not link.usable:
        return _unusable(
            request, "This link no longer works",
            "The document’s owner turned it off, or it has expired. Ask them for a new link.",
        )
    if not request.user.is_authenticated:
        return _welcome(request, heading="You have a link to a document", document=link.document,
                        role=link.role, signup_open=settings.SIGNUP_ENABLED)
    try:
        role = services.link_use(link=link, user=request.user)
    except services.Unusable:
        return _unusable(request, "This link no longer works", "The document’s owner has just turned it off.")
    return _joined(request, link.document, role)

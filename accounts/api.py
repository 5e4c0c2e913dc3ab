"""Share links and invitations over the REST API: what the share dialog does, for scripts.

- `GET/POST /api/documents/<uuid>/links/`, `DELETE /api/documents/<uuid>/links/<id>/`: the
  document's working share links; make one (a role, optionally an expiry in days); turn one off
  (idempotent: those who joined through it keep their role, the link answers 410 from then on).
- `GET/POST /api/documents/<uuid>/invitations/`, `DELETE /api/documents/<uuid>/invitations/<id>/`:
  pending invitations by e-mail; invite an address (the e-mail goes out as from the share dialog,
  a pending invitation to the same address is replaced); withdraw one.

Owner only, as the dialog: someone with another role gets a 403, anyone else a 404 (as for every
document they cannot see). The roles offered are `Role` without the owner (accounts.models.
grantable_roles), read when this module is imported: a role added to the model is offered here,
in the OpenAPI schema and in validation, with no change to this module.

A ninja Router of the project's API (documents.api), mounted by editor/urls.py: documents knows
nothing of accounts.
"""

import enum
from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from documents.api_http import Error, role_on_document
from documents.models import Document, Role

from . import policy, selectors, services
from .mail import send_invitation
from .models import Invitation, ShareLink, grantable_roles

router = Router(tags=["sharing"])

# The roles a link or an invitation may grant, as an enum of their values (OpenAPI lists them).
GrantableRole = enum.Enum("GrantableRole", {value.upper(): value for value, _label in grantable_roles()}, type=str)
# Database ids are signed 64-bit integers.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class LinkOut(Schema):
    id: int
    role: GrantableRole = Field(description="The role whoever signs in through the link gets")
    url: str = Field(description="The link to hand out")
    created_at: datetime
    expires_at: datetime | None = Field(description="When it stops working (null: until turned off)")
    uses: int = Field(description="How many people got a role through it")
    created_by: str | None = Field(description="Username of who made it (null if that account is gone)")


class LinkCreate(Schema):
    role: GrantableRole
    days: int | None = Field(None, ge=1, le=365, description="Works for this many days; null or absent: "
                                                            "until turned off")


class InvitationOut(Schema):
    id: int
    email: str
    role: GrantableRole
    created_at: datetime
    expires_at: datetime = Field(description="When its link stops working, if not accepted before")
    invited_by: str | None = Field(description="Username of who invited (null if that account is gone)")


class InvitationCreate(Schema):
    # Checked by Django's validator (as the share dialog does; 422 if it refuses), not pydantic's,
    # which needs another package.
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$", description="The address to invite")
    role: GrantableRole


_ERRORS = {401: Error, 403: Error, 404: Error, 429: Error}


async def _owned(user, document_id) -> Document:
    role = await role_on_document(user, document_id)
    if role is None:
        raise HttpError(404, "No such document")
    if role != Role.OWNER:
        raise HttpError(403, f"Only the document's owner shares it; a {role.label.lower()} may not")
    return await Document.objects.aget(pk=document_id)


def _link_out(request, link: ShareLink) -> dict:
    return {
        "id": link.pk, "role": link.role, "created_at": link.created_at, "expires_at": link.expires_at,
        "url": request.build_absolute_uri(reverse("share-link-open", args=[link.key])), "uses": link.uses,
        "created_by": link.created_by.get_username() if link.created_by else None,
    }


def _invitation_out(invitation: Invitation) -> dict:
    return {
        "id": invitation.pk, "email": invitation.email, "role": invitation.role,
        "created_at": invitation.created_at, "expires_at": invitation.expires_at,
        "invited_by": invitation.invited_by.get_username() if invitation.invited_by else None,
    }


# --- share links ------------------------------------------------------------------------------


@router.get("/documents/{uuid:document_id}/links/", response={200: list[LinkOut], **_ERRORS})
async def link_list(request, document_id: UUID):
    """The document's share links that still work, newest first (owner only)."""
    document = await _owned(request.auth, document_id)

    def listed():
        links = selectors.active_links(document)
        return [_link_out(request, link) for link in ShareLink.objects.filter(
            pk__in=[link.pk for link in links]).select_related("created_by")]

    return await sync_to_async(listed)()


def _link_to(operation_id: str, parameter: str) -> dict:
    """An OpenAPI link from a 201 to the operation that takes back what it made (clients and generated tests
    follow it)."""
    return {"responses": {201: {"links": {"Revoke": {
        "operationId": operation_id,
        "parameters": {"document_id": "$request.path.document_id", parameter: "$response.body#/id"},
    }}}}}


@router.post("/documents/{uuid:document_id}/links/", response={201: LinkOut, **_ERRORS, 422: Error},
             openapi_extra=_link_to("accounts_api_link_revoke", "link_id"))
async def link_create(request, document_id: UUID, payload: LinkCreate):
    """Make a share link: whoever signs in through it gets `role` (a role they already hold that is
    more powerful is kept), until it expires or is turned off (owner only)."""
    document = await _owned(request.auth, document_id)
    link = await sync_to_async(services.link_create)(
        document=document, role=Role(payload.role.value), created_by=request.auth,
        lifetime=timedelta(days=payload.days) if payload.days else None)
    link.created_by = request.auth
    return 201, _link_out(request, link)


@router.delete("/documents/{uuid:document_id}/links/{link_id}/", response={204: None, **_ERRORS})
async def link_revoke(request, document_id: UUID, link_id: Id):
    """Turn a share link off: it answers 410 from now on; those who joined through it keep their role.
    Turning off a link already off (or expired) changes nothing (owner only)."""
    document = await _owned(request.auth, document_id)
    link = await ShareLink.objects.filter(document=document, pk=link_id).afirst()
    if link is None:
        raise HttpError(404, f"The document has no share link {link_id}")
    await sync_to_async(services.link_revoke)(link=link)
    return 204, None


# --- invitations ------------------------------------------------------------------------------


@router.get("/documents/{uuid:document_id}/invitations/", response={200: list[InvitationOut], **_ERRORS})
async def invitation_list(request, document_id: UUID):
    """Invitations not yet accepted and still valid, newest first (owner only)."""
    document = await _owned(request.auth, document_id)

    def listed():
        pending = {i.pk for i in selectors.pending_invitations(document)}
        found = Invitation.objects.filter(pk__in=pending).select_related("invited_by")
        return [_invitation_out(invitation) for invitation in found]

    return await sync_to_async(listed)()


@router.post("/documents/{uuid:document_id}/invitations/",
             response={201: InvitationOut, **_ERRORS, 422: Error},
             openapi_extra=_link_to("accounts_api_invitation_cancel", "invitation_id"))
async def invitation_create(request, document_id: UUID, payload: InvitationCreate):
    """Invite an address: an e-mail with a link (valid once, for 14 days) that gives `role` to whoever
    follows it and signs up or in. A pending invitation to the same address is replaced. An address
    without an account must be one sign-up accepts (SIGNUP_EMAIL_DOMAINS), else 422 (owner only)."""
    document = await _owned(request.auth, document_id)
    try:
        validate_email(payload.email)
    except ValidationError:
        raise HttpError(422, f"{payload.email!r} is not an e-mail address") from None
    email = payload.email

    def invite():
        if services.user_by_email(email) is None and not policy.domain_allowed(email):
            raise HttpError(422, f"{policy.domain_refusal()} Cannot invite {email}.")
        invitation, raw = services.invitation_create(document=document, email=email, role=Role(payload.role.value),
                                                     invited_by=request.auth)
        invitation.invited_by = request.auth
        send_invitation(request, invitation, raw)
        return _invitation_out(invitation)

    return 201, await sync_to_async(invite)()


@router.delete("/documents/{uuid:document_id}/invitations/{invitation_id}/",
               response={204: None, **_ERRORS, 409: Error})
async def invitation_cancel(request, document_id: UUID, invitation_id: Id):
    """Withdraw an invitation not yet accepted: its link stops working (owner only).

    Idempotent, like deleting a comment: an invitation already withdrawn (or never made) is not
    pending afterwards either, 204; one already accepted cannot be withdrawn, 409 (remove the
    person's access instead)."""
    document = await _owned(request.auth, document_id)
    invitation = await Invitation.objects.filter(document=document, pk=invitation_id).afirst()
    if invitation is not None and invitation.accepted_at is not None:
        raise HttpError(409, f"Invitation {invitation_id} was already accepted: remove the person's access instead")
    if invitation is not None:
        await sync_to_async(services.invitation_cancel)(invitation=invitation)
    return 204, None

"""Comments, mentions and notifications over the REST API (documents.comments, documents.notifications).

- `GET/POST /api/documents/<uuid>/comments/`, `GET/PATCH/DELETE /api/documents/<uuid>/comments/<uuid>/`,
  `POST .../comments/<uuid>/replies/`, `.../resolve/`, `.../reopen/`;
- `GET /api/documents/<uuid>/people/` (who can be mentioned);
- `GET /api/notifications/`, `GET /api/notifications/unread-count/`, `POST /api/notifications/<id>/read/`,
  `POST /api/notifications/read-all/`.

Thin: the rules are in documents.comments. Every change is announced to open editors once it committed.
"""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from asgiref.sync import sync_to_async
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from pydantic import StrictBool, StrictInt, StringConstraints

from . import comments, notifications
from .api_http import Error, error_response, role_on_document
from .models import COMMENT_ROLES, Comment, Document, Role

router = Router(tags=["comments"])

MAX_ID = 2**63 - 1
Body = Annotated[str, StringConstraints(min_length=1, max_length=Comment.MAX_BODY)]
Position = Annotated[str, StringConstraints(min_length=1, max_length=200)]


# --- schemas -------------------------------------------------------------------------------------------------


class PersonOut(Schema):
    username: str
    name: str = Field(description="The full name, else the username")


class AnchorIn(Schema):
    start: Position = Field(description="base64 of Y.encodeRelativePosition (v1) of the first character, into "
                                        "the `default` XmlFragment (y-prosemirror's absolutePositionToRelativePosition)")
    end: Position = Field(description="The same, just after the last character (assoc -1 preferred)")


class AnchorOut(Schema):
    start: str
    end: str


class ThreadCreate(Schema):
    body: Body = Field(description="Plain text (shown as text, never as HTML); `@username` mentions someone")
    anchor: AnchorIn | None = Field(None, description="Where the comment is (from the editor); or give `quote`")
    quote: Body | None = Field(None, description="Anchor the comment to this text of the document instead "
                                                 "(block breaks are \"\\n\"); 422 if the document does not hold it")
    occurrence: StrictInt = Field(1, ge=1, le=1_000_000, description="Which occurrence of `quote` (1 = the first)")


class ReplyCreate(Schema):
    body: Body


class CommentUpdate(Schema):
    body: Body | None = Field(None, description="The new text (the author only)")
    resolved: StrictBool | None = Field(None, description="Resolve (true) or re-open (false) a thread: owners and editors")


class ReplyOut(Schema):
    id: UUID
    author: PersonOut
    body: str = Field(description="Plain text, as typed: show it as text")
    created_at: datetime
    edited_at: datetime | None
    can_edit: bool = Field(description="Whether the caller may edit it (its author)")
    can_delete: bool = Field(description="Whether the caller may delete it (its author, the document's owner)")
    mentioned_without_access: list[PersonOut] = Field(
        [], description="After a POST or PATCH, for the document's owner: people the body mentions who have no "
                        "access to the document (not notified; share the document with them to notify them)")


class ThreadOut(ReplyOut):
    anchor: AnchorOut
    quote: str = Field(description="The text the anchor covers now (the original quote when it was deleted)")
    original_quote: str = Field(description="The text the anchor covered when the comment was made")
    on_deleted_text: bool = Field(description="The anchored text was deleted entirely")
    position: int | None = Field(description="Where the anchored text starts, in the document's plain text "
                                             "(for ordering); null on deleted text")
    resolved: bool
    resolved_by: PersonOut | None
    resolved_at: datetime | None
    replies: list[ReplyOut]


class CountOut(Schema):
    count: int


class DocumentRef(Schema):
    id: UUID
    title: str


class NotificationOut(Schema):
    id: int
    kind: Literal["mention"]
    actor: PersonOut | None
    document: DocumentRef
    comment_id: UUID
    excerpt: str = Field(description="The beginning of the comment, plain text")
    created_at: datetime
    read: bool


_ERRORS = {401: Error, 403: Error, 404: Error, 422: Error, 429: Error}


# --- helpers -------------------------------------------------------------------------------------------------


def _sharer_only(role, outsiders: list) -> list:
    """Who a body mentions without access, for the owner alone: the owner can share with them, and to
    anyone else the answer would tell which usernames exist."""
    return outsiders if role == Role.OWNER else []


async def _role(user, document_id, allowed=None, doing: str = "do this") -> Role:
    role = await role_on_document(user, document_id)
    if role is None:
        raise HttpError(404, "No such document")
    if allowed is not None and role not in allowed:
        raise HttpError(403, f"A document's {role.label.lower()} may not {doing}")
    return role


def _refused(exc: comments.Refused):
    return error_response(exc.status, exc.detail)


def _url(request, document_id) -> str:
    return request.build_absolute_uri(f"/documents/{document_id}/")


async def _document(document_id) -> Document:
    return await Document.objects.aget(pk=document_id)


# --- comments -------------------------------------------------------------------------------------------------


@router.get("/documents/{uuid:document_id}/comments/", response={200: list[ThreadOut], **_ERRORS})
async def comment_list(request, document_id: UUID,
                       status: Annotated[Literal["open", "resolved", "all"], Query(
                           description="Which threads: open (the default), resolved, or all")] = "open"):
    """The document's comment threads with their replies, in document order (threads whose text was
    deleted last). Everyone with a role on the document."""
    role = await _role(request.auth, document_id)
    return await comments.list_threads(document_id, request.auth, role, status)


def _links() -> dict:
    """OpenAPI links from a new thread to what can be done with it (clients and schemathesis follow them)."""
    parameters = {"document_id": "$request.path.document_id", "comment_id": "$response.body#/id"}
    return {name: {"operationId": f"documents_comments_http_{operation}", "parameters": parameters}
            for name, operation in (("GetComment", "comment_get"), ("EditComment", "comment_update"),
                                    ("DeleteComment", "comment_delete"), ("Reply", "comment_reply"),
                                    ("Resolve", "comment_resolve"), ("Reopen", "comment_reopen"))}


@router.post("/documents/{uuid:document_id}/comments/", response={201: ThreadOut, **_ERRORS},
             openapi_extra={"responses": {201: {"description": "The new thread", "links": _links()}}})
async def comment_create(request, document_id: UUID, data: ThreadCreate):
    """Start a thread on a span of the text: `anchor` (relative positions from the editor) or `quote`
    (+ `occurrence`). Owners, editors and commenters. Mentions notify people with access."""
    role = await _role(request.auth, document_id, COMMENT_ROLES, "comment")
    if (data.anchor is None) == (data.quote is None):
        return error_response(422, "Give either `anchor` or `quote` (not both)")
    try:
        comments.check_body(data.body)
        if data.anchor is not None:
            anchor = await comments.anchor_for(document_id, start=data.anchor.start, end=data.anchor.end)
        else:
            anchor = await comments.anchor_for(document_id, quote=data.quote, occurrence=data.occurrence)
        document = await _document(document_id)
        thread, outsiders = await sync_to_async(comments.create_thread)(
            document=document, author=request.auth, body=data.body, anchor=anchor, url=_url(request, document_id))
    except comments.Refused as exc:
        return _refused(exc)
    await comments.announce(document_id)
    found = await comments.thread(document_id, thread.pk, request.auth, role)
    return 201, {**found, "mentioned_without_access": _sharer_only(role, outsiders)}


@router.get("/documents/{uuid:document_id}/comments/{uuid:comment_id}/", response={200: ThreadOut | ReplyOut, **_ERRORS})
async def comment_get(request, document_id: UUID, comment_id: UUID):
    """A thread (with its replies), or a reply (without anchor)."""
    role = await _role(request.auth, document_id)
    try:
        return await comments.get_message(document_id, comment_id, request.auth, role)
    except comments.Refused as exc:
        return _refused(exc)


@router.patch("/documents/{uuid:document_id}/comments/{uuid:comment_id}/",
              response={200: ThreadOut | ReplyOut, **_ERRORS})
async def comment_update(request, document_id: UUID, comment_id: UUID, data: CommentUpdate):
    """Edit a message's body (its author) and/or resolve or re-open a thread (owners and editors)."""
    role = await _role(request.auth, document_id)
    return await _update(request, document_id, comment_id, role, body=data.body, resolved=data.resolved)


async def _update(request, document_id, comment_id, role, *, body=None, resolved=None):
    try:
        document = await _document(document_id)
        outsiders = await sync_to_async(comments.update)(
            document=document, comment_id=comment_id, user=request.auth, role=role, body=body, resolved=resolved,
            url=_url(request, document_id))
    except comments.Refused as exc:
        return _refused(exc)
    await comments.announce(document_id)
    found = await comments.get_message(document_id, comment_id, request.auth, role)
    return {**found, "mentioned_without_access": _sharer_only(role, outsiders)}


@router.delete("/documents/{uuid:document_id}/comments/{uuid:comment_id}/", response={204: None, **_ERRORS})
async def comment_delete(request, document_id: UUID, comment_id: UUID):
    """Delete a message (its author, or the document's owner); a thread goes with its replies. Deleting one
    that is already gone is a 204 too (for owners, editors and commenters)."""
    role = await _role(request.auth, document_id)
    try:
        document = await _document(document_id)
        await sync_to_async(comments.delete)(document=document, comment_id=comment_id, user=request.auth, role=role)
    except comments.Refused as exc:
        return _refused(exc)
    await comments.announce(document_id)
    return 204, None


@router.post("/documents/{uuid:document_id}/comments/{uuid:comment_id}/replies/", response={201: ReplyOut, **_ERRORS})
async def comment_reply(request, document_id: UUID, comment_id: UUID, data: ReplyCreate):
    """Reply to a thread. Owners, editors and commenters."""
    role = await _role(request.auth, document_id, COMMENT_ROLES, "comment")
    try:
        document = await _document(document_id)
        reply, outsiders = await sync_to_async(comments.create_reply)(
            document=document, thread_id=comment_id, author=request.auth, body=data.body,
            url=_url(request, document_id))
    except comments.Refused as exc:
        return _refused(exc)
    await comments.announce(document_id)
    found = await comments.get_message(document_id, reply.pk, request.auth, role)
    return 201, {**found, "mentioned_without_access": _sharer_only(role, outsiders)}


@router.post("/documents/{uuid:document_id}/comments/{uuid:comment_id}/resolve/", response={200: ThreadOut, **_ERRORS})
async def comment_resolve(request, document_id: UUID, comment_id: UUID):
    """Resolve a thread (owners and editors)."""
    role = await _role(request.auth, document_id)
    return await _update(request, document_id, comment_id, role, resolved=True)


@router.post("/documents/{uuid:document_id}/comments/{uuid:comment_id}/reopen/", response={200: ThreadOut, **_ERRORS})
async def comment_reopen(request, document_id: UUID, comment_id: UUID):
    """Re-open a resolved thread (owners and editors)."""
    role = await _role(request.auth, document_id)
    return await _update(request, document_id, comment_id, role, resolved=False)


# --- mentions and notifications -------------------------------------------------------------------------------


@router.get("/documents/{uuid:document_id}/people/", response={200: list[PersonOut], **_ERRORS}, tags=["people"])
async def people(request, document_id: UUID,
                 q: Annotated[str, Query(description="Only people whose username or a word of whose name starts with this",
                                         max_length=100, pattern=r"^[^\x00]*$")] = ""):
    """People with a role on the document (whom a comment can mention): those whose username or a word of
    whose name starts with `q`, owner first, at most 10."""
    await _role(request.auth, document_id)
    document = await _document(document_id)
    return await sync_to_async(notifications.people_with_access)(document, q.strip())


@router.get("/notifications/", response={200: list[NotificationOut], 401: Error, 422: Error, 429: Error},
            tags=["notifications"])
async def notification_list(request, unread: Annotated[bool, Query(description="Only unread ones")] = False):
    """The caller's notifications (mentions), newest first, read and unread (with `unread`: unread only), at most 50."""
    found = await sync_to_async(notifications.for_user)(request.auth, unread_only=unread)
    return [notifications.as_json(n) for n in found]


@router.get("/notifications/unread-count/", response={200: CountOut, 401: Error, 429: Error}, tags=["notifications"])
async def notification_count(request):
    return {"count": await sync_to_async(notifications.unread_count)(request.auth)}


@router.post("/notifications/{int:notification_id}/read/", response={204: None, 401: Error, 404: Error, 429: Error},
             tags=["notifications"])
async def notification_read(request, notification_id: int):
    """Mark one notification read (it stays listed); 404 if it is not the caller's."""
    exists = notification_id <= MAX_ID and await sync_to_async(
        lambda: notifications.Notification.objects.filter(pk=notification_id, recipient=request.auth).exists())()
    if not exists:
        return error_response(404, "No such notification")
    await sync_to_async(notifications.mark_read)(request.auth, notification_id)
    return 204, None


@router.post("/notifications/read-all/", response={200: CountOut, 401: Error, 429: Error}, tags=["notifications"])
async def notification_read_all(request):
    """Mark every notification of the caller read; `count`: how many were unread."""
    return {"count": await sync_to_async(notifications.mark_read)(request.auth)}

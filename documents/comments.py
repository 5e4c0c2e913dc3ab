"""Comments: threads anchored to a document's text, their replies, resolving, and telling open editors.

A thread is a top-level `Comment` with an anchor (two Yjs relative positions, see documents.anchors);
its replies are `Comment` rows with `parent` set. Bodies are plain text, stored as typed (the UI shows
them as text, never as HTML). Who may do what:

- read: anyone with a role on the document;
- post a thread or a reply: COMMENT_ROLES (owner, editor, commenter);
- edit a message: its author (while they may still comment);
- delete a message: its author, or the document's owner (a thread's root takes its replies along);
- resolve / re-open a thread: WRITE_ROLES (owner, editor).

Live: after each change commits, the document's server peer announces `comments: {"n": <fresh token>}`
in its awareness entry (collab.live.announce, as documents.titles does for renames); an open editor
that hears a new token re-reads the list. The comments themselves stay in the database, never in the
Yjs document: they do not travel in the text's updates nor in its versions.
"""

import logging
import secrets
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from collab import live

from . import anchors, notifications
from .models import COMMENT_ROLES, WRITE_ROLES, Comment, Role
from .people import person

logger = logging.getLogger(__name__)

# The field of the server's awareness entry that open editors watch (frontend/js/server-peer.js).
NOTICE = "comments"
STATUSES = ("open", "resolved", "all")


class Refused(Exception):
    """A request the caller may not make (403) or that cannot be done (404, 409, 422)."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def check_body(body: str) -> str:
    """The body as typed, or Refused(422): not blank, at most Comment.MAX_BODY characters, no NUL (PostgreSQL
    cannot store it) nor lone surrogates (not text)."""
    if not body.strip():
        raise Refused(422, "A comment cannot be empty")
    if len(body) > Comment.MAX_BODY:
        raise Refused(422, f"A comment has at most {Comment.MAX_BODY} characters (this one has {len(body)})")
    if "\x00" in body:
        raise Refused(422, "A comment cannot contain NUL characters")
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        raise Refused(422, "A comment must be valid Unicode text (it holds a lone surrogate)") from None
    return body


def person_json(user) -> dict | None:
    if user is None:
        return None
    found = person(user)
    return {"username": found.username, "name": found.name}


def can_edit(comment: Comment, user, role: Role) -> bool:
    return comment.author_id == user.pk and role in COMMENT_ROLES


def can_delete(comment: Comment, user, role: Role) -> bool:
    return role == Role.OWNER or can_edit(comment, user, role)


def message_json(comment: Comment, user, role: Role) -> dict:
    return {
        "id": comment.pk, "author": person_json(comment.author), "body": comment.body,
        "created_at": comment.created_at, "edited_at": comment.edited_at,
        "can_edit": can_edit(comment, user, role), "can_delete": can_delete(comment, user, role),
    }


def thread_json(thread: Comment, replies: list[Comment], found: anchors.Resolved, user, role: Role) -> dict:
    data = message_json(thread, user, role)
    data.update({
        "anchor": {"start": thread.anchor_start, "end": thread.anchor_end},
        "quote": thread.original_quote if found.on_deleted_text else found.quote,
        "original_quote": thread.original_quote,
        "on_deleted_text": found.on_deleted_text,
        "position": found.position,
        "resolved": thread.resolved,
        "resolved_by": person_json(thread.resolved_by) if thread.resolved else None,
        "resolved_at": thread.resolved_at if thread.resolved else None,
        "replies": [message_json(reply, user, role) for reply in replies],
    })
    return data


# --- reading ---------------------------------------------------------------------------------------------


def _threads(document_id, status: str, only=None) -> list[tuple[Comment, list[Comment]]]:
    roots = Comment.objects.filter(document_id=document_id, parent=None).select_related("author", "resolved_by")
    if only is not None:
        roots = roots.filter(pk=only)
    if status == "open":
        roots = roots.filter(resolved=False)
    elif status == "resolved":
        roots = roots.filter(resolved=True)
    roots = list(roots)
    replies: dict = {root.pk: [] for root in roots}
    for reply in Comment.objects.filter(parent__in=roots).select_related("author").order_by("created_at", "id"):
        replies[reply.parent_id].append(reply)
    return [(root, replies[root.pk]) for root in roots]


async def _state(document_id) -> bytes:
    state, _vector = await live.live_state(document_id)
    return state


async def list_threads(document_id, user, role: Role, status: str = "open") -> list[dict]:
    """Threads in document order (by where their anchor starts; threads on deleted text last, oldest first)."""
    import asyncio

    found = await sync_to_async(_threads)(document_id, status)
    if not found:
        return []
    state = await _state(document_id)
    # Resolving scans the document: off the event loop the actors share.
    resolved = await asyncio.to_thread(anchors.resolve_many, state, [(t.anchor_start, t.anchor_end) for t, _ in found])
    threads = [thread_json(t, replies, r, user, role) for (t, replies), r in zip(found, resolved)]
    threads.sort(key=lambda t: (t["position"] is None, t["position"] or 0, t["created_at"]))
    return threads


async def get_message(document_id, comment_id, user, role: Role) -> dict:
    """A thread (with its replies and anchor) or a reply, by id; Refused(404) if not on this document."""
    comment = await Comment.objects.select_related("author").filter(document_id=document_id, pk=comment_id).afirst()
    if comment is None:
        raise Refused(404, "No such comment")
    if comment.parent_id is not None:
        return message_json(comment, user, role)
    return await thread(document_id, comment.pk, user, role)


async def thread(document_id, thread_id, user, role: Role) -> dict:
    import asyncio

    found = await sync_to_async(_threads)(document_id, "all", only=thread_id)
    if not found:
        raise Refused(404, "No such comment")
    (root, replies), = found
    state = await _state(document_id)
    resolved = await asyncio.to_thread(anchors.resolve, state, root.anchor_start, root.anchor_end)
    return thread_json(root, replies, resolved, user, role)


# --- changing --------------------------------------------------------------------------------------------


@dataclass
class Anchor:
    start: str
    end: str
    quote: str


async def anchor_for(document_id, *, start: str | None = None, end: str | None = None, quote: str | None = None,
                     occurrence: int = 1) -> Anchor:
    """The anchor of a new thread: given (the browser's relative positions), or made for a quote.
    Refused(422) for positions that are not Yjs relative positions, or a quote the text does not hold."""
    import asyncio

    state = await _state(document_id)
    if quote is not None:
        try:
            start, end, quote = await asyncio.to_thread(anchors.make, state, quote, occurrence)
        except anchors.QuoteNotFound as exc:
            times = {0: "not", 1: "only once"}.get(exc.found, f"only {exc.found} times")
            raise Refused(422, f"The document does not contain this quote{'' if occurrence == 1 else ' that often'}: "
                               f"it holds it {times}") from None
        return Anchor(start, end, quote)
    for value in (start, end):
        if not anchors.is_valid(value or ""):
            raise Refused(422, "anchor.start and anchor.end must be base64 Yjs relative positions "
                               "(Y.encodeRelativePosition)")
    found = await asyncio.to_thread(anchors.resolve, state, start, end)
    return Anchor(start, end, found.quote)


def create_thread(*, document, author, body: str, anchor: Anchor, url: str = "") -> tuple[Comment, list]:
    """(the new thread, mentioned users without access)."""
    with transaction.atomic():
        comment = Comment.objects.create(document=document, author=author, body=check_body(body),
                                         anchor_start=anchor.start, anchor_end=anchor.end,
                                         original_quote=anchor.quote)
        outsiders = notifications.mentions_made(comment, previous_body="", url=url)
    return comment, outsiders


def create_reply(*, document, thread_id, author, body: str, url: str = "") -> tuple[Comment, list]:
    with transaction.atomic():
        root = Comment.objects.filter(document=document, pk=thread_id).first()
        if root is None:
            raise Refused(404, "No such comment")
        if root.parent_id is not None:
            raise Refused(422, "Reply to the thread, not to a reply")
        reply = Comment.objects.create(document=document, parent=root, author=author, body=check_body(body))
        outsiders = notifications.mentions_made(reply, previous_body="", url=url)
    return reply, outsiders


def update(*, document, comment_id, user, role: Role, body: str | None = None, resolved: bool | None = None,
           url: str = "") -> list:
    """Edit the body (its author) and/or resolve or re-open (owners and editors, threads only), in one
    transaction; returns mentioned users without access."""
    outsiders: list = []
    with transaction.atomic():
        comment = Comment.objects.select_for_update().filter(document=document, pk=comment_id).first()
        if comment is None:
            raise Refused(404, "No such comment")
        if body is not None:
            if not can_edit(comment, user, role):
                raise Refused(403, "Only its author may edit a comment")
            previous, comment.body = comment.body, check_body(body)
            if comment.body != previous:
                comment.edited_at = timezone.now()
        if resolved is not None:
            if comment.parent_id is not None:
                raise Refused(422, "Only a thread can be resolved, not a reply")
            if role not in WRITE_ROLES:
                raise Refused(403, f"A document's {role.label.lower()} may not resolve or re-open threads")
            if comment.resolved != resolved:
                comment.resolved = resolved
                comment.resolved_by = user if resolved else None
                comment.resolved_at = timezone.now() if resolved else None
        comment.save()
        if body is not None and comment.body != previous:
            outsiders = notifications.mentions_made(comment, previous_body=previous, url=url)
    return outsiders


def delete(*, document, comment_id, user, role: Role) -> None:
    with transaction.atomic():
        comment = Comment.objects.filter(document=document, pk=comment_id).first()
        if comment is None:
            raise Refused(404, "No such comment")
        if not can_delete(comment, user, role):
            raise Refused(403, "Only its author or the document's owner may delete a comment")
        comment.delete()  # a thread's replies go with it (on_delete=CASCADE)


async def announce(document_id) -> None:
    """Tell everyone who has the document open that its comments changed (after the change committed)."""
    try:
        await live.announce(document_id, {NOTICE: {"n": secrets.token_hex(8)}})
    except Exception:
        # The change is stored: open editors see it when they next read the list (on reconnect).
        logger.warning("document %s: could not announce a comment change to open editors", document_id, exc_info=True)

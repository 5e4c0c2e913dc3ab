"""Mentions and the notifications they make.

A comment's body mentions `@username`: an `@` at the start of a word followed by the name of an
existing account. Each mentioned person who has a role on the document (other than the author) gets a
`Notification` (listed in the app with an unread count) and an e-mail through Django's e-mail backend
with a link to the document, once the comment is committed. Mentioned people without access get
nothing: the author is told who they are, so that the UI can offer to share the document with them.
Editing a comment notifies only the people it newly mentions.
"""

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from .models import Comment, Membership, Notification
from .people import person
from .selectors import roles

# Django's usernames: letters, digits and @ . + - _ ; a trailing dot is the sentence's, not the name's.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]+)")
EXCERPT = 140


def mentioned_names(body: str) -> list[str]:
    names = []
    for match in MENTION.finditer(body):
        name = match.group(1).rstrip(".")
        if name and name not in names:
            names.append(name)
    return names[:50]


def mentions_made(comment: Comment, *, previous_body: str, url: str = "") -> list[dict]:
    """Notify the people `comment` mentions (and `previous_body` did not); returns those without access,
    as [{"username", "name"}]. Inside the comment's transaction: the e-mails leave once it commits."""
    new = [n for n in mentioned_names(comment.body) if n not in set(mentioned_names(previous_body))]
    if not new:
        return []
    users = list(get_user_model().objects.filter(username__in=new, is_active=True).exclude(pk=comment.author_id))
    access = roles([comment.document], {u.pk for u in users}).get(comment.document_id, {})
    outsiders, notified = [], []
    for user in sorted(users, key=lambda u: new.index(u.get_username())):
        if user.pk in access:
            notified.append(Notification(recipient=user, actor=comment.author, document=comment.document,
                                         comment=comment, kind=Notification.Kind.MENTION))
        else:
            found = person(user)
            outsiders.append({"username": found.username, "name": found.name})
    Notification.objects.bulk_create(notified)
    if notified:
        transaction.on_commit(lambda: _mail([n.recipient for n in notified], comment, url))
    return outsiders


def _mail(recipients, comment: Comment, url: str) -> None:
    actor = person(comment.author).name
    title = comment.document.title
    excerpt = excerpt_of(comment.body, 500)
    for user in recipients:
        if not user.email:
            continue
        send_mail(
            subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{actor} mentioned you in “{title}”",
            message=f"{actor} mentioned you in a comment on “{title}”:\n\n{excerpt}\n\nOpen the document: {url}\n",
            from_email=None, recipient_list=[user.email], fail_silently=True,
        )


def excerpt_of(body: str, limit: int = EXCERPT) -> str:
    text = " ".join(body.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- reading and marking -------------------------------------------------------------------------------


def for_user(user, *, unread_only: bool = False, limit: int = 50):
    """The user's notifications, newest first, about documents they can still see."""
    from .selectors import documents_visible_to

    found = (Notification.objects.filter(recipient=user, document__in=documents_visible_to(user).values("pk"))
             .select_related("actor", "document", "comment"))
    if unread_only:
        found = found.filter(read_at=None)
    return list(found[:limit])


def unread_count(user) -> int:
    from .selectors import documents_visible_to

    return Notification.objects.filter(recipient=user, read_at=None,
                                       document__in=documents_visible_to(user).values("pk")).count()


def mark_read(user, notification_id=None) -> int:
    """Mark one (or, with None, every) unread notification of the user read; how many were."""
    found = Notification.objects.filter(recipient=user, read_at=None)
    if notification_id is not None:
        found = found.filter(pk=notification_id)
    return found.update(read_at=timezone.now())


def as_json(notification: Notification) -> dict:
    actor = notification.actor
    return {
        "id": notification.pk, "kind": notification.kind,
        "actor": {"username": person(actor).username, "name": person(actor).name} if actor else None,
        "document": {"id": notification.document_id, "title": notification.document.title},
        "comment_id": notification.comment_id, "excerpt": excerpt_of(notification.comment.body),
        "created_at": notification.created_at, "read": notification.read_at is not None,
    }


def people_with_access(document, q: str = "", limit: int = 10) -> list[dict]:
    """The people with a role on the document, for the @ menu: those whose username or a word of whose name
    starts with `q` (case-insensitively), owner first, then by username."""
    User = get_user_model()
    members = Membership.objects.filter(document=document).values("user_id")
    found = User.objects.filter(Q(pk=document.owner_id) | Q(pk__in=members), is_active=True)
    if q:
        found = found.filter(Q(username__istartswith=q) | Q(first_name__istartswith=q) | Q(last_name__istartswith=q)
                             | Q(first_name__icontains=" " + q) | Q(last_name__icontains=" " + q))
    owner_first = Case(When(pk=document.owner_id, then=Value(0)), default=Value(1))
    users = found.order_by(owner_first, "username")[:limit]
    return [{"username": p.username, "name": p.name} for p in map(person, users)]

"""Read-side queries of the documents domain (HackSoft style: selectors read)."""

import hmac
import uuid
from datetime import timedelta

from django.db.models import Case, Exists, OuterRef, Subquery, Value, When
from django.utils import timezone

from .models import ApiToken, Document, Membership, Role, hash_token


# How stale ApiToken.last_used_at may be.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class NoSuchDocument(Exception):
    """The document does not exist (or the id is not a UUID)."""


def roles(documents, user_ids) -> dict:
    """The role rule, the only place it is written: the owner (Document.owner) is
    the owner, anyone else has their Membership's role, if any.

    `documents`: Document instances (their owner_id is used as loaded) or ids.
    Returns {document pk: {user id: Role}} for each of those documents that
    exists, with the users among `user_ids` who have a role on it. In one
    query for the memberships, plus one for the owners when given ids. The
    API, the pages and the real-time engine (at connect, and in its re-check
    of every open socket at once) all ask through here.
    """
    user_ids = set(user_ids)
    documents = list(documents)
    if all(isinstance(d, Document) for d in documents):
        owners = {d.pk: d.owner_id for d in documents}
    else:
        owners = dict(Document.objects.filter(pk__in=documents).values_list("pk", "owner_id"))
    result = {pk: ({owner: Role.OWNER} if owner in user_ids else {}) for pk, owner in owners.items()}
    if owners and not all(found.keys() >= user_ids for found in result.values()):
        members = Membership.objects.filter(document_id__in=list(owners), user_id__in=user_ids)
        for document_id, user_id, role in members.values_list("document_id", "user_id", "role"):
            result[document_id].setdefault(user_id, Role(role))  # an owner stays the owner
    return result


def _as_uuid(document_id) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(document_id))
    except ValueError:
        return None


def role_on(user_id, document_id) -> tuple[bool, Role | None]:
    """(the document exists, the user's role on it) in one query: the real-time engine's check at connect."""
    pk = _as_uuid(document_id)
    rows = list(Document.objects.filter(pk=pk).order_by().annotate(role=role_of(user_id))
                .values_list("role", flat=True)[:1]) if pk else []
    if not rows:
        return False, None
    return True, Role(rows[0]) if rows[0] else None


def roles_for(user, documents) -> dict:
    """{document pk: the user's Role} for those of `documents` (instances or ids) the user has a role on."""
    if user is None or not user.is_authenticated:
        return {}
    return {pk: found[user.pk] for pk, found in roles(documents, {user.pk}).items() if user.pk in found}


def document_role(user, document_id) -> Role | None:
    """The caller's role on a document, None if they have none.

    Raises NoSuchDocument if there is no such document.
    """
    try:
        document_id = uuid.UUID(str(document_id))
    except ValueError:
        raise NoSuchDocument(document_id) from None
    signed_in = user is not None and user.is_authenticated
    found = roles([document_id], {user.pk} if signed_in else set())
    if document_id not in found:
        raise NoSuchDocument(document_id)
    return found[document_id].get(user.pk) if signed_in else None


def role_of(user_id):
    """The role rule of `roles()` as a query expression over Document, for querysets to filter or
    annotate by: Role.OWNER for its owner, else the user's Membership role, else NULL.

    tests/documents/test_roles.py checks that it agrees with `roles()` for every role.
    """
    # `user_id` may be a column of the query around the Document query
    # (OuterRef): the Membership subquery is one level further in.
    inner_user = OuterRef(user_id) if isinstance(user_id, OuterRef) else user_id
    membership = Membership.objects.filter(document=OuterRef("pk"), user_id=inner_user).values("role")[:1]
    return Case(When(owner_id=user_id, then=Value(Role.OWNER.value)), default=Subquery(membership))


def documents_visible_to(user):
    """Documents the user has a role on (`role_of`), their owners loaded; a queryset to order and page."""
    return Document.objects.alias(role=role_of(user.pk)).filter(role__isnull=False).select_related("owner")


def token_for_raw(raw: str):
    """The active ApiToken (with its user) a raw bearer token stands for, or None.

    Looks the token up by its SHA-256 (an index lookup), then compares the
    hashes in constant time so that the check does not leak timing.
    """
    return _active_token(raw, lambda tokens: tokens)


def _active_token(raw: str, annotate):
    """The active ApiToken for `raw` from the queryset `annotate(tokens)` (which may add columns), or None."""
    if not raw or not raw.startswith(ApiToken.PREFIX):
        return None
    digest = hash_token(raw)
    token = annotate(
        ApiToken.objects.select_related("user")
        .filter(key_hash=digest, revoked_at__isnull=True, user__is_active=True)
    ).first()
    if token is None or not hmac.compare_digest(token.key_hash, digest):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        # At most one write a minute per token: scripts and sockets connect often.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_with_role(raw: str, document_id):
    """(the active ApiToken with its user, the document exists, the user's role on it), or None for no such token.

    One query (the real-time engine's connect): whether the document exists and
    the token user's role on it (`role_of`) are subqueries of the token's row.
    """
    document = Document.objects.filter(pk=_as_uuid(document_id)).order_by()

    def with_role(tokens):
        return tokens.annotate(
            document_exists=Exists(document),
            document_role=Subquery(document.annotate(role=role_of(OuterRef("user_id"))).values("role")[:1]),
        )

    token = _active_token(raw, with_role)
    if token is None:
        return None
    role = Role(token.document_role) if token.document_role else None
    return token, bool(token.document_exists), role


def active_token_ids(token_ids) -> set:
    """Those of `token_ids` that still sign their user in: not revoked, user active."""
    return set(
        ApiToken.objects.filter(pk__in=token_ids, revoked_at__isnull=True, user__is_active=True)
        .values_list("pk", flat=True)
    )


def user_for_token(raw: str):
    """The active user a bearer token belongs to, or None."""
    token = token_for_raw(raw)
    return token.user if token else None

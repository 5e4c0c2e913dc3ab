"""Read-side queries shaped for the pages (the domain's own live in documents.selectors)."""

from django.contrib.auth import get_user_model

from documents.models import ApiToken, Membership
from documents.selectors import documents_visible_to, roles_for


def document_rows(user, documents=None) -> list:
    """The user's documents (or those given, e.g. a page of them), most recently edited first, each
    with `.role` set to the user's role."""
    documents = list(documents_visible_to(user) if documents is None else documents)
    roles = roles_for(user, documents)
    for document in documents:
        document.role = roles[document.pk]
    return documents


def document_members(document) -> list[Membership]:
    """Everyone with a role on the document other than its owner, by username."""
    return list(document.memberships.select_related("user").order_by("user__username"))


def user_by_username(username: str):
    """The active user with this username (case-insensitive), or None."""
    User = get_user_model()
    field = f"{User.USERNAME_FIELD}__iexact"
    return User.objects.filter(**{field: username.strip()}, is_active=True).first()


def tokens_of(user) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user))

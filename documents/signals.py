"""Domain signals of the documents app."""

from django.db import transaction
from django.dispatch import Signal

# Sent (after the transaction commits) when a user's access may have changed:
# a role given, changed or removed, a token revoked or deleted, a document
# deleted, the user's password changed, the user deactivated or deleted, or a
# session of theirs ended. Arguments: user_id, and session_key when one
# session was signed out (it is sent before Django deletes that session, so
# its key is named rather than left for a re-check to find gone). The
# real-time engine re-checks that user's open sockets (tell_engine below).
access_changed = Signal()


def tell_engine(sender, user_id, session_key=None, **kwargs):
    """Pass access_changed on to the real-time engine: it re-checks the user's open sockets."""
    from collab.live import access_changed as recheck_sockets

    recheck_sockets(user_id, session_key)


def _announce(user_id, session_key=None) -> None:
    transaction.on_commit(lambda: access_changed.send(sender=None, user_id=user_id, session_key=session_key))


def on_membership_change(sender, instance, **kwargs):
    _announce(instance.user_id)


def on_token_change(sender, instance, **kwargs):
    _announce(instance.user_id)


def on_document_delete(sender, instance, **kwargs):
    _announce(instance.owner_id)


def on_user_change(sender, instance, created=False, update_fields=None, **kwargs):
    """A password change or deactivation ends the user's sessions (and a deactivation their tokens)."""
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # a new user has no sockets; signing in touches only last_login
    _announce(instance.pk)


def on_logout(sender, request, user, **kwargs):
    if user is not None and getattr(request, "session", None) is not None:
        _announce(user.pk, request.session.session_key)


def on_document_saved(sender, instance, created=False, update_fields=None, **kwargs):
    """Search's copy of the title (documents.search), in the same transaction as the save."""
    if created or update_fields is None or "title" in update_fields:
        from . import search

        search.store_title(instance.pk, instance.title)

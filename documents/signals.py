"""Domain signals of the documents app."""

from django.db import transaction
from django.dispatch import Signal

# Sent (after the transaction commits) when a user's access may have changed:
# a role given, changed or removed, a token revoked or deleted, a document
# deleted. Argument: user_id. The real-time engine re-checks that user's
# open sockets.
access_changed = Signal()


def _announce(user_id) -> None:
    transaction.on_commit(lambda: access_changed.send(sender=None, user_id=user_id))


def on_membership_change(sender, instance, **kwargs):
    _announce(instance.user_id)


def on_token_change(sender, instance, **kwargs):
    _announce(instance.user_id)


def on_document_delete(sender, instance, **kwargs):
    _announce(instance.owner_id)

"""Whose document list changed, told to their open lists at once (collab.feed carries it).

The list page (frontend/js/list-feed.js) keeps a socket to /ws/feed/ and
reads its list again when told; collab.feed says why a socket that carries
only nudges. This module decides who is told what, from the model signals,
so that every path that changes a list tells it: the pages, the API, the
admin, a share link or an invitation accepted, a script on the ORM.

| what changed                         | who is told                       | kind       |
| ------------------------------------ | --------------------------------- | ---------- |
| a document made                      | its owner                         | `created`  |
| a title (`title` saved)              | its owner and everyone with a role | `renamed`  |
| a role given or changed              | that person                       | `shared`   |
| a role removed (deleting a document removes every one) | that person | `unshared` |
| a document deleted                   | its owner                         | `deleted`  |
| the text, as search indexes it       | its owner and everyone with a role | `edited`   |

Each is sent after its transaction commits (a list re-read before the commit
would not see it), as `{"kind": ..., "document": "<id>"}`. Text edits are told
at most once per SEARCH_INDEX_DELAY per document (documents.indexing), when
search finds the new words, and a list re-reads for them at most every 10 s
(list-feed.js): an edit changes only a row's time and snippet.
"""

from django.db import transaction

from collab import live

from .models import Membership


def _tell(user_ids, kind: str, document_id) -> None:
    live.tell_users(user_ids, {"kind": kind, "document": str(document_id)})


def people_of(document_id, owner_id=None) -> set:
    """Everyone with a role on the document: its owner and its members (one query, two without `owner_id`)."""
    from .models import Document

    if owner_id is None:
        owner_id = Document.objects.filter(pk=document_id).values_list("owner_id", flat=True).first()
    members = set(Membership.objects.filter(document_id=document_id).values_list("user_id", flat=True))
    return members | ({owner_id} if owner_id is not None else set())


def on_document_saved(sender, instance, created=False, update_fields=None, raw=False, **kwargs):
    if raw:
        return
    if created:
        owner_id, pk = instance.owner_id, instance.pk
        transaction.on_commit(lambda: _tell([owner_id], "created", pk))
    elif update_fields is None or "title" in update_fields:
        owner_id, pk = instance.owner_id, instance.pk
        transaction.on_commit(lambda: _tell(people_of(pk, owner_id), "renamed", pk))


def on_document_deleted(sender, instance, **kwargs):
    owner_id, pk = instance.owner_id, instance.pk
    transaction.on_commit(lambda: _tell([owner_id], "deleted", pk))


def on_membership_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    user_id, pk = instance.user_id, instance.document_id
    transaction.on_commit(lambda: _tell([user_id], "shared", pk))


def on_membership_deleted(sender, instance, **kwargs):
    user_id, pk = instance.user_id, instance.document_id
    transaction.on_commit(lambda: _tell([user_id], "unshared", pk))


def text_indexed(document_id) -> None:
    """documents.indexing: the document's text as search sees it changed (outside any transaction)."""
    _tell(people_of(document_id), "edited", document_id)

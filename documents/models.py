"""The domain: documents, who may do what with them, and their stored state.

A document's content lives in two tables: `Snapshot` rows (the full encoded
Yjs state at a moment; each one is a *version* in the history) and
`UpdateLog` rows (merged updates written since the latest snapshot). Loading
a document is "latest snapshot + log rows after it".
"""

import hashlib
import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    # May read and comment (documents.comments), may not change the text: its socket is read-only.
    COMMENTER = "commenter", "Commenter"
    VIEWER = "viewer", "Viewer"


# Roles that may change a document's content.
WRITE_ROLES = frozenset({Role.OWNER, Role.EDITOR})
# Roles that may post comments and replies (issue 20).
COMMENT_ROLES = frozenset({Role.OWNER, Role.EDITOR, Role.COMMENTER})


class Document(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200, default="Untitled document")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_documents"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped by metadata edits and by every committed content write.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # Highest cluster lease fencing token that has written this document's
    # content; a writer holding a lower one is a stale owner and is refused.
    fence = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-updated_at"]
        permissions = [("restore_version", "Can restore a document to an earlier version")]

    def __str__(self):
        return self.title


class Membership(models.Model):
    """A user's role on a document other than its owner's (the owner is `Document.owner`)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "user"], name="one_role_per_user")]

    def __str__(self):
        return f"{self.user} is {self.role} of {self.document}"


class Snapshot(models.Model):
    """The full state of a document at a moment: one version in its history."""

    class Kind(models.TextChoices):
        AUTO = "auto", "Automatic"
        NAMED = "named", "Named"
        RESTORE = "restore", "Restore"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="snapshots")
    created_at = models.DateTimeField(db_index=True)
    # Yjs update encoding the whole document (apply it to an empty Doc).
    state = models.BinaryField()
    # Yjs state vector of `state`.
    state_vector = models.BinaryField()
    # Highest UpdateLog.seq included in `state`; later log rows replay on top.
    last_seq = models.BigIntegerField(default=0)
    size = models.PositiveIntegerField(default=0)
    # Usernames of the people who edited since the previous snapshot.
    authors = models.JSONField(default=list, blank=True)
    # The beginning of the document's text, for lists that must not load `state`.
    preview = models.CharField(max_length=200, blank=True, default="")
    label = models.CharField(max_length=200, blank=True, default="")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.AUTO)
    # What changed since the previous version ({blocks_added, blocks_removed, words_added,
    # words_removed}), for lists that must not load `state`: computed once, on first listing
    # (documents.history.summarize), then kept. None until then.
    summary = models.JSONField(null=True, blank=True, default=None)

    class Meta:
        verbose_name = "version"
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]
        indexes = [models.Index(fields=["document", "-created_at"], name="snapshot_doc_time")]

    def __str__(self):
        return f"{self.document} @ {self.created_at:%Y-%m-%d %H:%M:%S}"


class UpdateLog(models.Model):
    """Merged updates written since the latest snapshot, in order."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="updates")
    seq = models.BigIntegerField()
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["document", "seq"], name="one_update_per_seq")]


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for scripts. Only its SHA-256 is stored; the token is shown once."""

    PREFIX = "cdt_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, default="")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, so that a person can tell their tokens apart.
    hint = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.hint}… ({self.user})"

    @classmethod
    def new_raw(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)


# --- images (issue 17; the logic is in documents/images.py) -------------------------------------


def image_storage():
    """The storage that holds uploaded images: STORAGES["images"] (a directory under DATA_DIR by default)."""
    from django.core.files.storage import storages

    return storages["images"]


class Image(models.Model):
    """An image uploaded into a document. Its bytes are in `image_storage()` under `file_name`; it is
    served at a URL with its random id, to people with a role on `document` only (documents.images_http)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Deleting the document deletes these rows, and their files once the deletion commits (documents.images).
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="images")
    file_name = models.CharField(max_length=255, editable=False)
    # Decided from the content (Pillow), never from the uploaded name or type.
    content_type = models.CharField(max_length=40, editable=False)
    size = models.PositiveIntegerField(editable=False)
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    sha256 = models.CharField(max_length=64, editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.content_type} {self.width}×{self.height} in {self.document_id}"


# --- search (documents.search keeps these rows; migration 0005 adds the engine's index) ---------------


class SearchText(models.Model):
    """A document's title and plain text as search sees them: one row per document.

    Written by the persistence path (documents.storage and documents.indexing),
    never per query. On PostgreSQL `vector` holds the weighted tsvector (title A,
    text B) behind a GIN index; on SQLite an FTS5 table mirrors title and body
    (triggers made by the migration); `vector` stays NULL there.
    """

    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="search_text")
    title = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField(blank=True, default="")
    vector = SearchVectorField(null=True, editable=False)
    # How far into the stored history `body` is (documents.search.position): a slower indexer
    # never overwrites a newer text with an older one.
    position = models.BigIntegerField(default=0)


# --- comments (issue 20; the logic is in documents/comments.py, REST in documents/comments_http.py) -------


class Comment(models.Model):
    """A message about a document: a thread (a top-level comment, anchored to a span of the text) or a
    reply in one (`parent` set, no anchor). The body is plain text as typed, never HTML.

    The anchor is two Yjs relative positions (base64 of `Y.encodeRelativePosition`, v1) into the
    document's `default` fragment, as the browser's y-prosemirror makes them: they follow the text
    through every edit, and documents.anchors resolves them against the live state.
    """

    MAX_BODY = 10_000

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="comments")
    # Deleting a thread's root deletes its replies.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    anchor_start = models.TextField(blank=True, default="")
    anchor_end = models.TextField(blank=True, default="")
    # The text the anchor covered when the comment was made: shown once that text is deleted.
    original_quote = models.TextField(blank=True, default="")
    resolved = models.BooleanField(default=False)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["document", "parent", "created_at"], name="comment_doc_thread")]

    def __str__(self):
        return f"{self.author} on {self.document_id}: {self.body[:40]}"


class Notification(models.Model):
    """Something a person should look at: for now, being mentioned in a comment (documents.notifications)."""

    class Kind(models.TextChoices):
        MENTION = "mention", "Mention"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    # Deleting the comment deletes the notice about it.
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MENTION)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

"""Images in documents: upload checks, storage, their URLs, their place in exports, and clean-up.

An image belongs to one document. Its bytes go through Django's storage API
(`STORAGES["images"]`: a directory under DATA_DIR by default, any
django-storages backend in production) and are served only by
documents.images_http, which checks the caller's role on the document on
every request: the storage's own URLs are never handed out. The editor's
image node keeps the relative URL `/documents/<document>/images/<image>`
as its `src` (`image_path`), so it loads with the browser's cookies.

What is accepted is decided by the content, never by the file's name or the
type the browser claims: Pillow must recognise PNG, JPEG, GIF or WebP and
decode the whole image. Anything else is refused (SVG in particular: it can
carry scripts), with 413 (too large), 415 (not one of those types) or 422 (it
claims to be one but does not decode).

Exports: the HTML export embeds small images of the exported document as
data: URIs and the Markdown export links to their absolute URL; both call
`export_src` for an image node's `src`, inside `export_context` (set by the
export view, which knows the document and the request's address).

Files are removed when their rows are (a document deleted: on commit), and
`clean_images` (manage.py clean_images) removes images no longer referenced
by the document nor by any version it keeps, and files whose rows are gone.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import hashlib
import io
import logging
import re
import uuid
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import Document, Image, Snapshot, UpdateLog, image_storage

logger = logging.getLogger(__name__)

# Pillow's format name -> (Content-Type served, file extension).
ACCEPTED = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}

_ALSO = {"MPO": ("image/jpeg", "jpg")}

# Unreferenced images younger than this are kept by the clean-up: an upload reaches the document
# (over the socket) a moment after it is stored, and an undo in an open editor can bring an image back.
CLEAN_GRACE = timedelta(hours=24)

# `/documents/<document uuid>/images/<image uuid>`, relative or absolute: what an image node's src holds.
_SRC = re.compile(
    r"^(?:https?://[^/]+)?/documents/(?P<document>[0-9a-fA-F-]{36})/images/(?P<image>[0-9a-fA-F-]{36})/?$"
)


class ImageRefused(Exception):
    """The upload is not accepted: `status` (413, 415, 422) and a sentence for the person."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Inspected:
    content_type: str
    extension: str
    width: int
    height: int


def max_bytes() -> int:
    return settings.IMAGES_MAX_BYTES


def inspect(data: bytes) -> Inspected:
    """What the bytes are, if they are an accepted image that decodes completely; else ImageRefused."""
    from PIL import Image as PILImage, UnidentifiedImageError

    if len(data) > max_bytes():
        raise ImageRefused(413, f"The image is too large: {len(data)} bytes, at most {max_bytes()}")
    if not data:
        raise ImageRefused(422, "The file is empty")
    if _looks_like_svg(data):
        raise ImageRefused(415, "SVG images are not accepted (they can hold scripts): upload a PNG, JPEG, GIF "
                                "or WebP")
    accepted = ", ".join(ACCEPTED)
    kind = None
    with warnings.catch_warnings():
        # An image of absurd dimensions (a "decompression bomb") is refused rather than decoded.
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            with PILImage.open(io.BytesIO(data), formats=list(ACCEPTED)) as probe:
                kind = probe.format
                width, height = probe.size
                probe.verify()  # structure and checksums
            with PILImage.open(io.BytesIO(data), formats=list(ACCEPTED)) as image:
                image.load()  # and every pixel of the (first) frame decodes
        except UnidentifiedImageError:
            raise ImageRefused(415, f"This file is not an image of an accepted type ({accepted})") from None
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
            raise ImageRefused(422, "The image's dimensions are too large") from None
        except Exception as exc:  # truncated, corrupt: Pillow raises many kinds
            raise ImageRefused(422, f"The {kind or 'image'} file cannot be decoded: it is damaged or "
                                    "incomplete") from exc
    # A camera's JPEG with several pictures opens as "MPO": a JPEG all the same.
    content_type, extension = ACCEPTED.get(kind) or _ALSO.get(kind) or (None, None)
    if content_type is None:
        raise ImageRefused(415, f"This file is not an image of an accepted type ({accepted})")
    return Inspected(content_type, extension, width, height)


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<svg", b"<?xml", b"<!doctype svg")) or b"<svg" in head


def store(*, document_id, user, data: bytes, found: Inspected | None = None) -> Image:
    """Check (unless `found` says what `inspect` found) and keep an uploaded image of `document_id`
    (the caller has checked the right to edit it)."""
    found = found or inspect(data)
    image_id = uuid.uuid4()
    storage = image_storage()
    from django.core.files.base import ContentFile

    name = storage.save(f"{document_id}/{image_id}.{found.extension}", ContentFile(data))
    try:
        return Image.objects.create(
            id=image_id, document_id=document_id, file_name=name, content_type=found.content_type,
            size=len(data), width=found.width, height=found.height, sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=user if user is not None and user.is_authenticated else None,
        )
    except BaseException:
        storage.delete(name)  # the document was deleted meanwhile, or the database failed: no orphan file
        raise


def read(image: Image) -> bytes:
    with image_storage().open(image.file_name, "rb") as handle:
        return handle.read()


def image_path(document_id, image_id) -> str:
    """The URL path an image is served at (and that its node's src holds)."""
    return reverse("document-image", kwargs={"document_id": document_id, "image_id": image_id})


def parse_src(src) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(document id, image id) if `src` is one of our image URLs (relative or absolute), else None."""
    if not isinstance(src, str):
        return None
    match = _SRC.match(src.strip())
    if match is None:
        return None
    try:
        return uuid.UUID(match["document"]), uuid.UUID(match["image"])
    except ValueError:
        return None


def delete_file_on_commit(sender, instance: Image, **kwargs) -> None:
    """post_delete of an Image (also when its document is deleted): its file goes once that commits."""
    name = instance.file_name

    def delete():
        try:
            image_storage().delete(name)
        except Exception:  # the clean-up command finds files without rows later
            logger.warning("could not delete image file %s", name, exc_info=True)

    transaction.on_commit(delete)


# --- exports -------------------------------------------------------------------------------------


@dataclass
class ExportContext:
    """What an export needs to know about images: the document, the site's address, and its images."""

    document_id: uuid.UUID
    # "https://docs.example.com", from the request; "" leaves URLs relative.
    base_url: str = ""
    # The document's images by id (metadata only), for the HTML export's data: URIs.
    images: dict[uuid.UUID, Image] = field(default_factory=dict)
    inline_budget: int = 0


_context: contextvars.ContextVar[ExportContext | None] = contextvars.ContextVar("image_export", default=None)


@contextlib.contextmanager
def export_context(context: ExportContext) -> Iterator[ExportContext]:
    """Renderers called inside (also in a thread started inside: asyncio.to_thread copies it) see `context`."""
    context.inline_budget = settings.IMAGES_INLINE_TOTAL_BYTES
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


async def aexport_context_for(request, document_id) -> ExportContext:
    """The context for exporting `document_id` in answer to `request` (its images' metadata loaded)."""
    images = {image.pk: image async for image in Image.objects.filter(document_id=document_id)
              .only("id", "document_id", "file_name", "content_type", "size")}
    return ExportContext(document_id=document_id, base_url=f"{request.scheme}://{request.get_host()}",
                         images=images)


def inline_image_src(src: str) -> str:
    """The `image_src` hook of documents.export.html.render_page, for a src the renderer already checked
    and made absolute: the exported document's own small images as data: URIs (IMAGES_INLINE_MAX_BYTES,
    within the export's IMAGES_INLINE_TOTAL_BYTES), so the file stands alone; any other src as it is (its
    URL asks the reader to sign in; another document's image is never inlined: its readers may differ)."""
    context = _context.get()
    ours = parse_src(src)
    if context is None or ours is None or ours[0] != context.document_id:
        return src
    return _data_uri(context, ours[1]) or src


def _data_uri(context: ExportContext, image_id) -> str | None:
    """Only the exported document's own images: a document may name another's, which its readers may not see."""
    image = context.images.get(image_id)
    if image is None or image.size > settings.IMAGES_INLINE_MAX_BYTES or image.size > context.inline_budget:
        return None
    try:
        data = read(image)
    except Exception:
        logger.warning("image %s of document %s cannot be read for an export", image_id, context.document_id,
                       exc_info=True)
        return None
    context.inline_budget -= len(data)
    return f"data:{image.content_type};base64,{base64.b64encode(data).decode('ascii')}"


# --- references and clean-up ---------------------------------------------------------------------


def referenced_images(tree: dict, document_id) -> set[uuid.UUID]:
    """Ids of `document_id`'s images that image nodes of a ProseMirror JSON tree point to."""
    found: set[uuid.UUID] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if node.get("type") == "image":
            ours = parse_src((node.get("attrs") or {}).get("src"))
            if ours is not None and ours[0] == document_id:
                found.add(ours[1])
        stack.extend(node.get("content", ()))
    return found


def _states(document_id) -> Iterable[bytes]:
    """Every kept version's state, and the current state (the latest snapshot + the log rows after it)."""
    from pycrdt import Doc

    latest = None
    for snapshot_id, state, last_seq in (Snapshot.objects.filter(document_id=document_id).order_by("id")
                                         .values_list("id", "state", "last_seq").iterator(chunk_size=20)):
        latest = (bytes(state), last_seq)
        yield latest[0]
    doc = Doc()
    if latest is not None:
        doc.apply_update(latest[0])
    after = latest[1] if latest is not None else 0
    for data in UpdateLog.objects.filter(document_id=document_id, seq__gt=after).order_by("seq").values_list(
            "data", flat=True):
        doc.apply_update(bytes(data))
    yield doc.get_update()


@dataclass(frozen=True, slots=True)
class CleanResult:
    # Images whose rows (and files) were deleted, or would be in a dry run.
    unreferenced: tuple[uuid.UUID, ...]
    # Files in the storage with no row (their document or row deleted, a failed deletion).
    orphan_files: tuple[str, ...]
    # Documents examined.
    documents: int


def clean_images(*, now: datetime | None = None, grace: timedelta = CLEAN_GRACE, dry_run: bool = False,
                 document_ids=None) -> CleanResult:
    """Delete images that neither the document nor any version it keeps refers to, and stray files.

    Retention-aware: a version kept by thin_versions (named, restore, the hourly and daily ones) keeps
    its images, since restoring it brings them back; run thin_versions first. Only images older than
    `grace` go, so that an upload that has not reached the document yet, or an undo, is safe.
    """
    from .export.tree import document_tree

    now = now or timezone.now()
    cutoff = now - grace
    candidates = Image.objects.filter(created_at__lt=cutoff)
    if document_ids is not None:
        candidates = candidates.filter(document_id__in=list(document_ids))
    by_document: dict[uuid.UUID, set[uuid.UUID]] = {}
    for image_id, document_id in candidates.values_list("id", "document_id"):
        by_document.setdefault(document_id, set()).add(image_id)
    unreferenced: list[uuid.UUID] = []
    for document_id, image_ids in by_document.items():
        used: set[uuid.UUID] = set()
        for state in _states(document_id):
            used |= referenced_images(document_tree(state), document_id)
            if image_ids <= used:
                break
        unreferenced.extend(sorted(image_ids - used))
    if not dry_run and unreferenced:
        for image in Image.objects.filter(pk__in=unreferenced, created_at__lt=cutoff):
            image.delete()  # its file follows on commit (delete_file_on_commit)
    orphans = tuple(_orphan_files(cutoff, document_ids))
    if not dry_run:
        storage = image_storage()
        for name in orphans:
            storage.delete(name)
    return CleanResult(tuple(unreferenced), orphans, len(by_document))


def _orphan_files(cutoff: datetime, document_ids=None) -> Iterator[str]:
    """Files under `<document>/` in the storage that no Image row names, older than `cutoff`."""
    storage = image_storage()
    try:
        folders, _files = storage.listdir("")
    except FileNotFoundError:
        return
    wanted = {str(d) for d in document_ids} if document_ids is not None else None
    for folder in folders:
        if wanted is not None and folder not in wanted:
            continue
        try:
            document_id = uuid.UUID(folder)
        except ValueError:
            continue  # not ours
        _subfolders, files = storage.listdir(folder)
        names = {f"{folder}/{name}" for name in files}
        known = set(Image.objects.filter(file_name__in=names).values_list("file_name", flat=True))
        document_gone = not Document.objects.filter(pk=document_id).exists()
        for name in sorted(names - known):
            try:
                old = storage.get_modified_time(name) < cutoff
            except (NotImplementedError, OSError):
                old = document_gone
            if old or document_gone:
                yield name

"""Word (.docx) import: mammoth turns the document into HTML, which the HTML importer maps.

A .docx is a zip archive, so it is checked before mammoth opens it:
- it must be a zip holding word/document.xml (anything else named .docx is
  refused, 422);
- the parts mammoth reads (XML and relationships) may expand to at most
  `MAX_XML_BYTES` in all, by the sizes the archive declares: a zip bomb is
  refused (413) before a byte is inflated. Python's zipfile stops at the
  declared size (and fails the CRC check) if a member lies about it;
- no part may declare a DTD: entity expansion ("billion laughs") is refused.
Images of raster types (PNG, JPEG, GIF, WebP) become `data:` images, the
file standing alone as the Word document did; each is read only up to
`MAX_IMAGE_BYTES` and all of them up to `MAX_IMAGES_BYTES` (a zip member's
declared size is not trusted). Others (EMF, WMF, TIFF...), and images past
the limits, become an <img> without a source, which the HTML importer
counts as skipped. Tables (with Word's header rows as <th>), headings 1-6
and checkboxes in list items come through mammoth's HTML; a list item
whose text starts with a ballot box (☐, ☑ or ☒, as the DOCX export writes
task items) is a task item.
"""

from __future__ import annotations

import base64
import io
import zipfile

import mammoth

from .builder import TreeBuilder
from .html import feed_html
from .schema import ImportRefused, Notes

MAX_XML_BYTES = 16 * 1024 * 1024
MAX_MEMBERS = 10_000
# Images carried into the document as data: URIs (they live in its Yjs state, which has a size limit).
MAX_IMAGE_BYTES = 1024 * 1024
MAX_IMAGES_BYTES = 4 * 1024 * 1024
_RASTER_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_XML_SUFFIXES = (".xml", ".rels")

# Word's own title styles have no mapping in mammoth's defaults.
STYLE_MAP = """
p[style-name='Title'] => h1:fresh
p[style-name='Subtitle'] => h2:fresh
"""


def parse_docx(data: bytes, notes: Notes) -> dict:
    check_archive(data)
    try:
        result = mammoth.convert_to_html(
            io.BytesIO(data),
            style_map=STYLE_MAP,
            convert_image=mammoth.images.img_element(_ImageReader()),
        )
    except ImportRefused:
        raise
    except Exception as exc:  # mammoth reports a malformed part by whatever exception it hits
        raise ImportRefused(f"This .docx file could not be read ({type(exc).__name__}): is it a Word document?") from None
    builder = TreeBuilder(notes, collapse_space=True)
    feed_html(result.value, builder)
    return _boxes_to_tasks(builder.finish())


# Word has no task lists: the DOCX export (and people) write a list item's box as its first character.
_BOXES = {"☐": False, "☑": True, "☒": True}


def _boxes_to_tasks(tree: dict) -> dict:
    """List items whose text starts with a ballot box are task items (checked if it is ticked)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        content = node.get("content") or []
        stack.extend(child for child in content if isinstance(child, dict))
        if node.get("type") != "listItem" or not content or content[0].get("type") != "paragraph":
            continue
        inline = content[0].get("content") or []
        first = inline[0] if inline else None
        if first and first.get("type") == "text" and first["text"][:1] in _BOXES:
            node["type"], node["attrs"] = "taskItem", {"checked": _BOXES[first["text"][0]]}
            first["text"] = first["text"][1:].lstrip(" ")
            if not first["text"]:
                inline.pop(0)
    return tree


class _ImageReader:
    """mammoth's image converter: a raster image within the limits as a data: URI, any other without a source."""

    def __init__(self):
        self.left = MAX_IMAGES_BYTES

    def __call__(self, image) -> dict:
        attrs = {"alt": image.alt_text} if getattr(image, "alt_text", None) else {}
        if image.content_type not in _RASTER_TYPES:
            return attrs
        with image.open() as stream:
            data = stream.read(min(MAX_IMAGE_BYTES, self.left) + 1)
        if len(data) > min(MAX_IMAGE_BYTES, self.left):
            return attrs
        self.left -= len(data)
        return {**attrs, "src": f"data:{image.content_type};base64,{base64.b64encode(data).decode('ascii')}"}


def check_archive(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise ImportRefused("This is not a .docx file: a Word document is a zip archive, and this is not one") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise ImportRefused(f"This .docx file has more than {MAX_MEMBERS} parts", 413)
        names = {member.filename for member in members}
        if "word/document.xml" not in names:
            raise ImportRefused("This .docx file has no word/document.xml: it is not a Word document")
        xml = [member for member in members if member.filename.lower().endswith(_XML_SUFFIXES)]
        expanded = sum(member.file_size for member in xml)
        if expanded > MAX_XML_BYTES:
            raise ImportRefused(
                f"This .docx file expands to {expanded} bytes of XML, more than the {MAX_XML_BYTES} allowed "
                "(a zip bomb?)", 413)
        for member in xml:
            try:
                head = archive.read(member)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
                raise ImportRefused(f"This .docx file is damaged: its part {member.filename} cannot be read") from None
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise ImportRefused(f"Refused: the .docx part {member.filename} declares a DTD (entity expansion)")

"""Word (.docx) import: mammoth turns the document into HTML, which the HTML importer maps.

A .docx is a zip archive, so it is checked before mammoth opens it:
- it must be a zip holding word/document.xml (anything else named .docx is
  refused, 422);
- the parts mammoth reads (XML and relationships) may expand to at most
  `MAX_XML_BYTES` in all, by the sizes the archive declares: a zip bomb is
  refused (413) before a byte is inflated. Python's zipfile stops at the
  declared size (and fails the CRC check) if a member lies about it;
- no part may declare a DTD: entity expansion ("billion laughs") is refused.
Images are not read at all (the schema has none): mammoth is given an image
converter that emits an empty <img>, which the HTML importer counts as skipped.
"""

from __future__ import annotations

import io
import zipfile

import mammoth

from .builder import TreeBuilder
from .html import feed_html
from .schema import ImportRefused, Notes

MAX_XML_BYTES = 16 * 1024 * 1024
MAX_MEMBERS = 10_000
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
            convert_image=mammoth.images.img_element(lambda image: {}),
        )
    except ImportRefused:
        raise
    except Exception as exc:  # mammoth reports a malformed part by whatever exception it hits
        raise ImportRefused(f"This .docx file could not be read ({type(exc).__name__}): is it a Word document?") from None
    builder = TreeBuilder(notes, collapse_space=True)
    feed_html(result.value, builder)
    return builder.finish()


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

"""Import: Markdown, HTML, plain text, ProseMirror JSON and Word files into the editor's schema.

    from documents import importing
    imported = importing.parse(data, "md")     # ImportRefused(detail, status) if it cannot be
    imported.content                           # ProseMirror JSON, normalized (schema.normalize)
    imported.notes                             # ["2 images skipped", ...]
    state = importing.prosemirror_to_state(imported.content)   # the Yjs update Tiptap would write

Each format has its module, all ending in `schema.normalize`, which fits
the result to the nodes and marks the editor has (frontend/js/editor.js);
`ydoc` writes it into a Yjs document exactly as y-prosemirror does. Text
formats must be UTF-8 (a byte order mark is fine). Input larger than
`max_import_bytes()` (settings.IMPORT_MAX_BYTES) is refused with 413.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath

from .schema import ImportRefused, Notes, normalize
from .ydoc import prosemirror_to_doc, prosemirror_to_state, write_nodes

FORMATS = ("md", "html", "txt", "json", "docx")
TEXT_FORMATS = ("md", "html", "txt", "json")
DEFAULT_MAX_BYTES = 4 * 1024 * 1024

# File name extensions (lower case, without the dot) and the format they are read as.
EXTENSIONS = {
    "md": "md", "markdown": "md", "mdown": "md", "mkd": "md",
    "html": "html", "htm": "html", "xhtml": "html",
    "txt": "txt", "text": "txt",
    "json": "json",
    "docx": "docx",
}

__all__ = ["FORMATS", "ImportRefused", "Imported", "format_for_filename", "max_import_bytes", "parse",
           "prosemirror_to_doc", "prosemirror_to_state", "sniff_format", "write_nodes"]


@dataclass
class Imported:
    # ProseMirror JSON {"type": "doc", "content": [...]}, fitted to the editor's schema.
    content: dict
    # What was dropped or simplified, in sentences ("2 images skipped").
    notes: list[str] = field(default_factory=list)


def max_import_bytes() -> int:
    from django.conf import settings

    return getattr(settings, "IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def format_for_filename(name: str) -> str | None:
    """The import format a file name's extension says ("notes.MD" is "md"), or None."""
    return EXTENSIONS.get(PurePath(name or "").suffix.lower().lstrip("."))


def sniff_format(data: bytes) -> str | None:
    """The format of a file whose name does not say: a zip archive is tried as Word, UTF-8 as plain text."""
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "txt"


def parse(data: bytes | str, format: str, *, max_bytes: int | None = None) -> Imported:
    """`data` in `format` (one of FORMATS) as the editor's ProseMirror JSON; ImportRefused if it cannot be.

    `max_bytes`: the size limit (413 beyond it); by default `max_import_bytes()`, from the settings.
    """
    if format not in FORMATS:
        raise ImportRefused(f"Unknown import format {format!r}; expected one of: {', '.join(FORMATS)}", 415)
    limit = max_import_bytes() if max_bytes is None else max_bytes
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > limit:
        raise ImportRefused(f"The file is too large to import: {size} bytes, at most {limit}", 413)
    notes = Notes()
    try:
        if format == "docx":
            if isinstance(data, str):
                raise ImportRefused("A .docx file is binary: send its bytes")
            from .docx import parse_docx

            tree = parse_docx(data, notes)
        else:
            text = _decode(data)
            if format == "md":
                from .markdown import parse_markdown

                tree = parse_markdown(text, notes)
            elif format == "html":
                from .html import parse_html

                tree = parse_html(text, notes)
            elif format == "txt":
                from .text import parse_text

                tree = parse_text(text)
            else:
                from .prosemirror import parse_json

                tree = parse_json(text)
        content = normalize(tree, notes, drop_empty_paragraphs=format in ("md", "docx"))
    except RecursionError:
        raise ImportRefused("The input is nested too deeply to import") from None
    return Imported(content=content, notes=notes.messages())


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportRefused(f"The file is not valid UTF-8 text (byte {exc.start}): save it as UTF-8 and "
                                "import again") from None
    # NUL has no place in a document (and PostgreSQL text refuses it); other controls are text.
    return text.replace("\x00", "\ufffd")

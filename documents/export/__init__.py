"""Export of a document's content: one module per format behind a small registry.

    from documents import export
    renderer = export.get("md")           # UnknownFormat lists the valid names
    text = renderer.render_state(state_bytes, title=document.title)

Every renderer works on the same intermediate form, the document's
ProseMirror JSON (`tree.document_tree`), which is read once from the Yjs
`XmlFragment` that Tiptap edits. For HTML views of a version (the admin, its
diffs) use `html.render_fragment(source)`: body markup only, escaped.
"""

from .base import Renderer
from .registry import UnknownFormat, formats, get, register
from .tree import document_tree

# Importing the format modules registers them.
from . import docx, html, markdown, pdf, plaintext, prosemirror  # noqa: E402,F401  isort: skip

__all__ = ["Renderer", "UnknownFormat", "document_tree", "formats", "get", "register"]

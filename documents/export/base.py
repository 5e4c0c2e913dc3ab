"""What an export format must provide."""

from __future__ import annotations

from pycrdt import Doc

from .tree import document_tree


class Renderer:
    """One export format. Subclasses set the class attributes and implement `render`."""

    # The `format=` value that selects it, e.g. "md".
    name: str = ""
    # File name extension of a download, without the dot.
    extension: str = ""
    # The HTTP Content-Type of its output.
    content_type: str = ""

    def render(self, tree: dict, *, title: str, base_url: str | None = None) -> str | bytes:
        """Render a document given as ProseMirror JSON (see `tree.document_tree`).

        Text formats return str (sent as UTF-8), binary ones (PDF, DOCX) bytes.
        `base_url` (e.g. "https://docs.example/"): where the document's relative
        image addresses resolve, for formats that write them out (an exported
        file is read away from the site).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement render(tree, *, title, base_url=None)")

    def render_state(self, source: Doc | bytes, *, title: str, base_url: str | None = None) -> str | bytes:
        """Render a pycrdt Doc or an encoded Yjs state (the full update of a document)."""
        return self.render(document_tree(source), title=title, base_url=base_url)

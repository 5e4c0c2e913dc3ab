"""Reading a document's content out of its encoded Yjs state."""

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

# The shared type Tiptap edits by default.
FRAGMENT = "default"

# Block elements after which plain text starts a new line.
_BLOCKS = {"paragraph", "heading", "blockquote", "codeBlock", "listItem", "horizontalRule"}


def doc_from_state(state: bytes) -> Doc:
    doc = Doc()
    if state:
        doc.apply_update(state)
    return doc


def fragment_of(doc: Doc) -> XmlFragment:
    return doc.get(FRAGMENT, type=XmlFragment)


def _text(node, out: list[str]) -> None:
    if isinstance(node, XmlText):
        out.append("".join(chunk for chunk, _attrs in node.diff() if isinstance(chunk, str)))
        return
    for child in node.children:
        _text(child, out)
    if isinstance(node, XmlElement) and node.tag in _BLOCKS and out and not out[-1].endswith("\n"):
        out.append("\n")


def preview_text(state: bytes) -> str:
    """The document's text with blocks on their own lines, for previews and search."""
    out: list[str] = []
    _text(fragment_of(doc_from_state(state)), out)
    return " ".join(line.strip() for line in "".join(out).splitlines() if line.strip())

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


def preview_text(state: bytes) -> str:
    """The document's text with blocks on their own lines, for previews and search.

    Iterative (an explicit stack): a client may nest elements thousands deep.
    """
    out: list[str] = []
    # A node to read, or the tag of a block whose end is reached (a line ends there).
    stack: list = [fragment_of(doc_from_state(state))]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if out and not out[-1].endswith("\n"):
                out.append("\n")
        elif isinstance(node, XmlText):
            out.append("".join(chunk for chunk, _attrs in node.diff() if isinstance(chunk, str)))
        else:
            if isinstance(node, XmlElement) and node.tag in _BLOCKS:
                stack.append(node.tag)
            stack.extend(reversed(list(node.children)))
    return " ".join(line.strip() for line in "".join(out).splitlines() if line.strip())

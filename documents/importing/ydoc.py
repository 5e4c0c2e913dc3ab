"""ProseMirror JSON written into Yjs as y-prosemirror (Tiptap's Collaboration) writes it.

The reverse of `export.tree.document_tree`: in the XmlFragment "default",
each node is an XmlElement named after its type with its non-null attrs as
attributes; each run of adjacent text nodes is one XmlText, whose chunks
carry the marks as formatting attributes (`{"bold": {}, "link": {"href":
...}}`); other inline nodes (hardBreak) are elements between the texts.
For a normalized document (`schema.normalize`), writing it here and reading
it back with `document_tree` gives the same JSON.

The walk is iterative (an explicit stack): JSON from outside may nest
arbitrarily deep, and Python recursion would fail first.
"""

from __future__ import annotations

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from ..content import fragment_of


def prosemirror_to_doc(content: dict) -> Doc:
    """A new Doc whose "default" fragment holds the document `content` ({"type": "doc", ...})."""
    doc = Doc()
    fragment = fragment_of(doc)
    with doc.transaction():
        write_nodes(fragment, content.get("content") or [])
    return doc


def prosemirror_to_state(content: dict) -> bytes:
    """The encoded Yjs state (one update) of `prosemirror_to_doc(content)`."""
    return prosemirror_to_doc(content).get_update()


def write_nodes(target: XmlFragment | XmlElement, nodes: list[dict], index: int | None = None) -> None:
    """Insert ProseMirror JSON nodes into an integrated fragment or element, at `index` (default: the end).

    Call it inside the document's transaction, so that the write is one update.
    Children are inserted last first, each at the same index: finding an
    index walks the list from its start, so appending one by one would cost
    time quadratic in a long document's length (minutes for a 1 MB import).
    """
    # (Y parent, its JSON children, where they go)
    stack: list[tuple[XmlFragment | XmlElement, list, int]] = [
        (target, list(nodes), len(target.children) if index is None else index)
    ]
    while stack:
        parent, children, position = stack.pop()
        for run in reversed(_runs(children)):
            if isinstance(run, list):
                _write_text(parent, position, run)
                continue
            attrs = {key: value for key, value in (run.get("attrs") or {}).items() if value is not None}
            element = parent.children.insert(position, XmlElement(run.get("type") or "paragraph", attrs))
            if run.get("content"):
                stack.append((element, run["content"], 0))


def _runs(children: list) -> list:
    """The children with each run of adjacent text nodes as one list (one XmlText, as y-prosemirror writes)."""
    runs: list = []
    for child in children:
        if not isinstance(child, dict):
            continue
        if child.get("type") == "text":
            if runs and isinstance(runs[-1], list):
                runs[-1].append(child)
            else:
                runs.append([child])
        else:
            runs.append(child)
    return runs


def _write_text(parent: XmlFragment | XmlElement, position: int, nodes: list[dict]) -> None:
    text = parent.children.insert(position, XmlText())
    # Last chunk first, each at the start, for the same reason as the elements. Explicit attributes on every
    # chunk, as y-prosemirror does: a chunk never takes on its neighbour's marks.
    for node in reversed(nodes):
        chunk = node.get("text") or ""
        if not chunk:
            continue
        attrs = {mark["type"]: dict(mark.get("attrs") or {}) for mark in node.get("marks") or ()}
        text.insert(0, chunk, attrs or None)

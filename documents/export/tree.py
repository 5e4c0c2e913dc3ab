"""A document's ProseMirror JSON, read from the Yjs XmlFragment that Tiptap edits.

y-prosemirror stores a ProseMirror node as an XmlElement named after the node
type (camelCase: paragraph, heading, bulletList, codeBlock, hardBreak...)
with the node's attributes as element attributes, and text as XmlText whose
formatting attributes are the marks ({"bold": {}, "link": {"href": ...}}).
This module turns that into the plain JSON that `Node.fromJSON` and Tiptap's
`setContent` accept; every renderer works from it.

Normalised on the way, so that every format sees the same document:
- numbers that Yjs hands back as floats (heading `level` 1.0) become ints;
- marks come in one canonical order (`MARK_ORDER`), which the HTML and
  Markdown renderers also use to nest them (link outermost, code innermost);
- y-prosemirror's `--<hash>` suffix of overlapping marks and its `ychange`
  bookkeeping attributes are dropped;
- Tiptap's empty trailing paragraph(s) are dropped (its TrailingNode
  extension keeps one after a final list or code block: an editor artefact);
- nesting deeper than `MAX_DEPTH` is flattened: an element at that depth
  becomes a paragraph holding all the text below it (hard breaks between
  blocks). Any client may send elements nested thousands deep; the walk
  here is iterative, and the cap keeps the tree shallow enough for the
  renderers, the diff and `json.dumps`, which recurse once per level.
"""

from __future__ import annotations

import re

from pycrdt import Doc, XmlElement, XmlText

from ..content import doc_from_state, fragment_of

# Outermost first. Unknown marks sort after these, before `code`, by name. Pending suggestions
# (export/suggestions.py) wrap everything else, as the editor's schema orders them.
MARK_ORDER = ("suggestionInsert", "suggestionDelete", "link", "bold", "italic", "underline", "strike")
_LAST_MARKS = ("code",)

# Deepest element kept as such (the fragment's children are at depth 1). Tiptap's
# deepest real structures are nested lists, two levels per list; the renderers
# recurse at most three frames per level, well inside Python's 1,000.
MAX_DEPTH = 200

# y-prosemirror names a mark that may overlap itself "<name>--<8 chars of hash>".
_HASHED_MARK = re.compile(r"^(.*)--[a-zA-Z0-9+/=]{8}$")


def document_tree(source: Doc | bytes) -> dict:
    """The document as ProseMirror JSON: {"type": "doc", "content": [...]}."""
    doc = source if isinstance(source, Doc) else doc_from_state(source)
    content: list[dict] = []
    loose_inline: list[dict] = []
    for child in fragment_of(doc).children:
        if isinstance(child, XmlText):
            # Not something Tiptap writes, but keep the text: wrap it the way
            # ProseMirror would have to.
            loose_inline.extend(_text_nodes(child))
            continue
        if loose_inline:
            content.append({"type": "paragraph", "content": loose_inline})
            loose_inline = []
        content.append(_element(child))
    if loose_inline:
        content.append({"type": "paragraph", "content": loose_inline})
    while content and is_empty_paragraph(content[-1]):
        content.pop()
    return {"type": "doc", "content": content}


def is_empty_paragraph(node: dict) -> bool:
    return node["type"] == "paragraph" and not node.get("content")


def mark_rank(mark: dict) -> tuple:
    kind = mark["type"]
    if kind in MARK_ORDER:
        return (0, MARK_ORDER.index(kind), "")
    if kind in _LAST_MARKS:
        return (2, _LAST_MARKS.index(kind), "")
    return (1, 0, kind)


def text_of(node: dict) -> str:
    """All the text under a node, without separators (code blocks, headings)."""
    if node["type"] == "text":
        return node.get("text", "")
    return "".join(text_of(child) for child in node.get("content", ()))


def _element(element: XmlElement) -> dict:
    """The element as JSON; iterative (an explicit stack), so any depth is read without recursing."""
    root: dict = {}
    # (Yjs element, the JSON node to fill, its depth)
    stack = [(element, root, 1)]
    while stack:
        yelement, node, depth = stack.pop()
        node["type"] = yelement.tag or "paragraph"
        attrs = {key: _plain(value) for key, value in yelement.attributes if not key.startswith("ychange")}
        if attrs:
            node["attrs"] = attrs
        children = list(yelement.children)
        if depth >= MAX_DEPTH and any(isinstance(child, XmlElement) for child in children):
            node.clear()
            node.update(_flattened(yelement))
            continue
        content: list[dict] = []
        for child in children:
            if isinstance(child, XmlText):
                content.extend(_text_nodes(child))
            else:
                content.append({})
                stack.append((child, content[-1], depth + 1))
        if content:
            node["content"] = content
    return root


def _flattened(element: XmlElement) -> dict:
    """A paragraph with every text below `element`, a hard break between blocks (too deep to keep)."""
    content: list[dict] = []
    stack = [element]
    while stack:
        node = stack.pop()
        if isinstance(node, XmlText):
            texts = _text_nodes(node)
            if texts and content:
                content.append({"type": "hardBreak"})
            content.extend(texts)
        else:
            stack.extend(reversed(list(node.children)))
    return {"type": "paragraph", "content": content} if content else {"type": "paragraph"}


def _text_nodes(text: XmlText) -> list[dict]:
    nodes = []
    for chunk, attrs in text.diff():
        if not isinstance(chunk, str) or not chunk:
            continue  # embeds have no place in a Tiptap document
        node = {"type": "text", "text": chunk}
        marks = _marks(attrs or {})
        if marks:
            node["marks"] = marks
        if nodes and nodes[-1].get("marks") == node.get("marks"):
            nodes[-1]["text"] += chunk
        else:
            nodes.append(node)
    return nodes


def _marks(attrs: dict) -> list[dict]:
    marks = []
    for key, value in attrs.items():
        if value is None or value is False or key.startswith("ychange"):
            continue  # a null attribute is y-prosemirror's "mark removed"
        match = _HASHED_MARK.match(key)
        mark = {"type": match.group(1) if match else key}
        if isinstance(value, dict) and value:
            mark["attrs"] = _plain(value)
        if mark not in marks:
            marks.append(mark)
    return sorted(marks, key=mark_rank)


def _plain(value):
    """JSON-ready copy of an attribute value, with integral floats as ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value

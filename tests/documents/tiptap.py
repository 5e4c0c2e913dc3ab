"""Build Yjs documents in the shape Tiptap (y-prosemirror) gives them, from ProseMirror JSON.

Tests describe a document as the JSON an editor would produce and write it
into a pycrdt XmlFragment the way y-prosemirror does: a node is an
XmlElement named after its type, its attrs are element attributes, text is
XmlText with marks as formatting attributes ({"bold": {}, "link": {...}}).
"""

from pycrdt import Doc, XmlElement, XmlFragment, XmlText


def text(value: str, *marks) -> dict:
    """A text node; marks are names ("bold") or mark dicts ({"type": "link", "attrs": {...}})."""
    node = {"type": "text", "text": value}
    if marks:
        node["marks"] = [m if isinstance(m, dict) else {"type": m} for m in marks]
    return node


def link(href: str, **attrs) -> dict:
    return {"type": "link", "attrs": {"href": href, **attrs}}


def node(kind: str, *content, **attrs) -> dict:
    result = {"type": kind}
    if attrs:
        result["attrs"] = attrs
    if content:
        result["content"] = [text(c) if isinstance(c, str) else c for c in content]
    return result


def paragraph(*content) -> dict:
    return node("paragraph", *content)


def heading(level: int, *content) -> dict:
    return node("heading", *content, level=level)


def bullet_list(*items) -> dict:
    return node("bulletList", *(node("listItem", *blocks) for blocks in items))


def ordered_list(*items, start: int = 1) -> dict:
    return node("orderedList", *(node("listItem", *blocks) for blocks in items), start=start)


def write(target: XmlFragment | XmlElement, nodes: list[dict]) -> None:
    """Append ProseMirror JSON nodes to a fragment (or element) as y-prosemirror would."""
    pending_text: list[dict] = []

    def flush_text():
        if not pending_text:
            return
        ytext = XmlText()
        target.children.append(ytext)
        for piece in pending_text:
            attrs = {m["type"]: dict(m.get("attrs", {})) for m in piece.get("marks", ())}
            ytext.insert(len(ytext), piece["text"], attrs or None)
        pending_text.clear()

    for item in nodes:
        if item["type"] == "text":
            pending_text.append(item)
            continue
        flush_text()
        # y-prosemirror leaves null attributes out.
        attrs = {k: v for k, v in item.get("attrs", {}).items() if v is not None}
        element = XmlElement(item["type"], attrs)
        target.children.append(element)
        write(element, item.get("content", []))
    flush_text()


def build(nodes: list[dict], *, trailing_paragraph: bool = True) -> Doc:
    """A Doc holding the nodes, plus the empty paragraph Tiptap keeps at the end."""
    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        write(fragment, nodes + ([paragraph()] if trailing_paragraph else []))
    return doc

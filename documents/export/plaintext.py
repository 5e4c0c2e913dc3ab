"""Plain text: what a person would type to write the document in an e-mail.

Headings are underlined (= for level 1, - for level 2), list items get "-"
or their number, quotes "> ", code blocks are indented by four spaces, and a
link shows its target in brackets after its text when that says something
the text does not. Blocks are separated by a blank line; lists are tight.
"""

from __future__ import annotations

from .base import Renderer
from .links import safe_href
from .registry import register

_LIST_TYPES = ("bulletList", "orderedList")


@register
class PlainTextRenderer(Renderer):
    name = "txt"
    extension = "txt"
    content_type = "text/plain; charset=utf-8"

    def render(self, tree: dict, *, title: str) -> str:
        lines = _blocks(tree.get("content", ()))
        return "\n".join(lines) + "\n" if lines else ""


def _blocks(nodes, *, tight: bool = False) -> list[str]:
    lines: list[str] = []
    for node in nodes:
        block = _block(node)
        if not block:
            continue
        if lines and not (tight and node["type"] in _LIST_TYPES):
            lines.append("")
        lines.extend(block)
    return lines


def _block(node: dict) -> list[str]:
    kind = node["type"]
    attrs = node.get("attrs", {})
    if kind == "paragraph":
        return _inline(node.get("content", ())).split("\n") if node.get("content") else []
    if kind == "heading":
        text = _inline(node.get("content", ())).replace("\n", " ")
        level = attrs.get("level", 1)
        if level in (1, 2) and text:
            return [text, ("=" if level == 1 else "-") * len(text)]
        return [text]
    if kind == "blockquote":
        return [f"> {line}" if line else ">" for line in _blocks(node.get("content", ()))]
    if kind == "codeBlock":
        text = "".join(child.get("text", "") for child in node.get("content", ()))
        return [f"    {line}" if line else "" for line in text.split("\n")]
    if kind == "horizontalRule":
        return ["---"]
    if kind in _LIST_TYPES:
        start = attrs.get("start", 1) if kind == "orderedList" else None
        if not isinstance(start, int):
            start = 1
        lines = []
        for index, item in enumerate(node.get("content", ())):
            marker = "-" if kind == "bulletList" else f"{start + index}."
            body = _blocks(item.get("content", ()), tight=True) or [""]
            indent = " " * (len(marker) + 1)
            lines.append(f"{marker} {body[0]}".rstrip())
            lines.extend(f"{indent}{line}" if line else "" for line in body[1:])
        return lines
    if kind in ("text", "hardBreak"):
        return _inline([node]).split("\n")
    return _blocks(node.get("content", ()))  # an unknown node: its content


def _inline(content) -> str:
    out: list[str] = []
    link, link_text = None, []  # the link being written, and its text so far

    def end_link():
        if link is not None:
            out.append(_link_suffix("".join(link_text), link))

    for node in content:
        kind = node["type"]
        node_link = next((m for m in node.get("marks", ()) if m["type"] == "link"), None)
        if node_link != link:
            end_link()
            link, link_text = node_link, []
        if kind == "hardBreak":
            out.append("\n")
        elif kind == "text":
            out.append(node.get("text", ""))
            link_text.append(node.get("text", ""))
        else:
            out.append(_inline(node.get("content", ())))
    end_link()
    return "".join(out)


def _link_suffix(text: str, link: dict) -> str:
    href = safe_href(link.get("attrs", {}).get("href"))
    if not href or href in (text, f"mailto:{text}", f"tel:{text}"):
        return ""
    return f" ({href})"

"""Plain text: what a person would type to write the document in an e-mail.

Headings are underlined (= for level 1, - for level 2), list items get "-"
or their number, task items "- [ ]" or "- [x]", quotes "> ", code blocks
are indented by four spaces, and a link shows its target in brackets after
its text when that says something the text does not. An image is its alt
text and its address in brackets (a `data:` image its alt text alone), a
table its rows with the cells padded into columns and " | " between them,
a line of dashes under the first row when it is a header row. Blocks are
separated by a blank line; lists are tight.
"""

from __future__ import annotations

from .base import Renderer
import unicodedata
from contextvars import ContextVar

from .links import absolute_src, safe_href, safe_image_src
from .registry import register
from .suggestions import rejected

_LIST_TYPES = ("bulletList", "orderedList", "taskList")
_BASE_URL: ContextVar[str | None] = ContextVar("plaintext_base_url", default=None)


@register
class PlainTextRenderer(Renderer):
    name = "txt"
    extension = "txt"
    content_type = "text/plain; charset=utf-8"

    def render(self, tree: dict, *, title: str, base_url: str | None = None) -> str:
        token = _BASE_URL.set(base_url)
        try:
            lines = _blocks(rejected(tree).get("content", ()))
        finally:
            _BASE_URL.reset(token)
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
            indent = " " * (len(marker) + 1)
            if kind == "taskList":
                marker = "- [x]" if (item.get("attrs") or {}).get("checked") is True else "- [ ]"
                indent = "  "
            body = _blocks(item.get("content", ()), tight=True) or [""]
            lines.append(f"{marker} {body[0]}".rstrip())
            lines.extend(f"{indent}{line}" if line else "" for line in body[1:])
        return lines
    if kind == "image":
        return _image(attrs)
    if kind == "table":
        return _table(node)
    if kind in ("text", "hardBreak"):
        return _inline([node]).split("\n")
    return _blocks(node.get("content", ()))  # an unknown node: its content


def _image(attrs: dict) -> list[str]:
    alt = attrs.get("alt").strip() if isinstance(attrs.get("alt"), str) else ""
    src = safe_image_src(attrs.get("src"))
    if src is None or src.startswith("data:"):
        return [alt] if alt else []
    src = absolute_src(src, _BASE_URL.get())
    return [f"{alt} ({src})" if alt else src]


def _table(node: dict) -> list[str]:
    from .markdown import table_grid  # the same grid of merged cells as the Markdown table

    grid = table_grid(node)
    if not grid or not grid[0]:
        return []
    texts = [[" ".join(" ".join(_blocks([cell])).split()) if cell else "" for cell in row] for row in grid]
    widths = [max(_width(row[c]) for row in texts) for c in range(len(grid[0]))]
    lines = [" | ".join(_pad(text, widths[c]) for c, text in enumerate(row)).rstrip() for row in texts]
    if all(cell is not None and cell["type"] == "tableHeader" for cell in grid[0]) and len(grid) > 1:
        lines.insert(1, "-+-".join("-" * width for width in widths))
    return lines


def _width(text: str) -> int:
    """Columns the text takes in a monospace font (East Asian wide characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


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

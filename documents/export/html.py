"""HTML: a standalone page, or the body markup alone for embedding (admin views, diffs).

Everything from the document is escaped; links keep only safe targets
(`links.safe_href`: `javascript:` and the like are dropped, their text
kept); the page forbids scripts with its own Content-Security-Policy.
Markup follows Tiptap's own `getHTML()` (list items hold paragraphs, code
blocks are <pre><code class="language-x">).
"""

from __future__ import annotations

import html
import re

from pycrdt import Doc

from .base import Renderer
from .inline import steps
from .links import safe_href
from .registry import register
from .tree import document_tree

_BLOCK_TAGS = {"paragraph": "p", "blockquote": "blockquote", "bulletList": "ul", "listItem": "li"}
_MARK_TAGS = {
    "bold": "strong",
    "italic": "em",
    "strike": "s",
    "underline": "u",
    "code": "code",
    "subscript": "sub",
    "superscript": "sup",
    "highlight": "mark",
}
_LANGUAGE = re.compile(r"[^A-Za-z0-9_+#.\-]")

PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:"

_STYLE = """
body { font: 16px/1.6 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
pre { background: #f5f5f7; padding: .75rem 1rem; overflow-x: auto; }
code { font-family: ui-monospace, monospace; font-size: .9em; }
blockquote { border-left: 3px solid #d2d2d7; margin-left: 0; padding-left: 1rem; color: #515154; }
hr { border: 0; border-top: 1px solid #d2d2d7; }
""".strip()


def render_fragment(source: Doc | bytes | dict) -> str:
    """Body markup of a document (a pycrdt Doc, its encoded state, or its ProseMirror JSON)."""
    tree = source if isinstance(source, dict) else document_tree(source)
    return "\n".join(_block(node) for node in tree.get("content", ()))


def render_page(source: Doc | bytes | dict, *, title: str) -> str:
    """A complete, standalone HTML document."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_text(title)}</title>\n"
        f"<style>\n{_STYLE}\n</style>\n"
        "</head>\n"
        "<body>\n"
        "<article>\n"
        f"{render_fragment(source)}\n"
        "</article>\n"
        "</body>\n"
        "</html>\n"
    )


@register
class HtmlRenderer(Renderer):
    name = "html"
    extension = "html"
    content_type = "text/html; charset=utf-8"

    def render(self, tree: dict, *, title: str) -> str:
        return render_page(tree, title=title)


def _text(value: str) -> str:
    return html.escape(value, quote=False)


def _attr(value) -> str:
    return html.escape(str(value), quote=True)


def _children(node: dict) -> str:
    return "".join(_block(child) for child in node.get("content", ()))


def _block(node: dict) -> str:
    kind = node["type"]
    attrs = node.get("attrs", {})
    if kind == "heading":
        level = _level(attrs.get("level"))
        return f"<h{level}>{_inline(node.get('content', ()))}</h{level}>"
    if kind == "paragraph":
        return f"<p>{_inline(node.get('content', ()))}</p>"
    if kind == "orderedList":
        start = attrs.get("start", 1)
        start_attr = f' start="{_attr(start)}"' if isinstance(start, int) and start != 1 else ""
        return f"<ol{start_attr}>{_children(node)}</ol>"
    if kind == "codeBlock":
        language = _LANGUAGE.sub("", str(attrs.get("language") or ""))
        class_attr = f' class="language-{language}"' if language else ""
        return f"<pre><code{class_attr}>{_text(_plain_text(node))}</code></pre>"
    if kind == "horizontalRule":
        return "<hr>"
    if kind == "image":
        return _image(attrs)
    if kind in ("text", "hardBreak"):  # inline content where a block was expected
        return _inline([node])
    tag = _BLOCK_TAGS.get(kind)
    if tag is None:
        return _children(node)  # an unknown node: keep its content, not its markup
    return f"<{tag}>{_children(node)}</{tag}>"


def _level(value) -> int:
    return value if isinstance(value, int) and 1 <= value <= 6 else 1


def _plain_text(node: dict) -> str:
    if node["type"] == "text":
        return node.get("text", "")
    if node["type"] == "hardBreak":
        return "\n"
    return "".join(_plain_text(child) for child in node.get("content", ()))


def _keep_mark(mark: dict) -> dict | None:
    if mark["type"] == "link":
        href = safe_href(mark.get("attrs", {}).get("href"))
        return {"type": "link", "attrs": {"href": href}} if href else None
    return mark if mark["type"] in _MARK_TAGS else None


def _open(mark: dict) -> str:
    if mark["type"] == "link":
        return f'<a href="{_attr(mark["attrs"]["href"])}" rel="noopener noreferrer nofollow">'
    return f"<{_MARK_TAGS[mark['type']]}>"


def _close(mark: dict) -> str:
    return "</a>" if mark["type"] == "link" else f"</{_MARK_TAGS[mark['type']]}>"


def _inline(content) -> str:
    out: list[str] = []
    for step in steps(content, _keep_mark):
        out.extend(_close(mark) for mark in step.close)
        out.extend(_open(mark) for mark in step.open)
        node = step.node
        if node is None:
            continue
        if node["type"] == "text":
            out.append(_text(node.get("text", "")))
        elif node["type"] == "hardBreak":
            out.append("<br>")
        elif node["type"] == "image":
            out.append(_image(node.get("attrs") or {}))
        else:
            out.append(_inline(node.get("content", ())))  # an unknown inline node: its text
    return "".join(out)


def _image(attrs: dict) -> str:
    """An image node: small images of the document inline as data: URIs, others linked (documents.images)."""
    from ..images import export_src

    src = export_src(attrs.get("src"), inline=True)
    alt = str(attrs.get("alt") or "")
    if src is None:
        return _text(alt)
    title = f' title="{_attr(attrs["title"])}"' if attrs.get("title") else ""
    return f'<img src="{_attr(src)}" alt="{_attr(alt)}"{title}>'

"""HTML: a standalone page, or the body markup alone for embedding (admin views, diffs).

Everything from the document is escaped; links keep only safe targets
(`links.safe_href`: `javascript:` and the like are dropped, their text
kept); the page forbids scripts with its own Content-Security-Policy.
Markup follows Tiptap's own `getHTML()` (list items hold paragraphs, code
blocks are <pre><code class="language-x">, task items are
<li data-type="taskItem" data-checked> with a disabled checkbox and their
content in a <div>, tables are <table><tbody> with <th>/<td> carrying
colspan/rowspan), so that pasting an export into the editor gives the same
document. Images are <img src alt title>: only a safe source
(`links.safe_image_src`), a relative one made absolute against `base_url`
when given, and `image_src` (a hook: the caller may put the image's bytes
inline as a data: URI) has the last word on it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from contextvars import ContextVar

from pycrdt import Doc

from .base import Renderer
from .inline import steps
from .links import absolute_src, safe_href, safe_image_src
from .registry import register
from .suggestions import ATTRS as _SUGGESTION_ATTRS
from .suggestions import DELETE as _SUGGESTED_DELETION
from .suggestions import INSERT as _SUGGESTED_INSERTION
from .suggestions import has_suggestions
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
# Pending suggestions: shown as proposals, with what the editor and the HTML import read back (suggestions.py).
_SUGGESTION_TAGS = {_SUGGESTED_INSERTION: ("ins", "insertion"), _SUGGESTED_DELETION: ("del", "deletion")}
_LANGUAGE = re.compile(r"[^A-Za-z0-9_+#.\-]")
_CELL_TAGS = {"tableHeader": "th", "tableCell": "td"}
# Where an image's source goes: (src after the safety check, made absolute) -> the src to write.
ImageSrc = Callable[[str], str]
_ALIGNMENTS = ("left", "center", "right")
# (base_url, image_src hook) of the render under way, for the image blocks deep in the walk.
_IMAGES: ContextVar[tuple[str | None, ImageSrc | None]] = ContextVar("html_images", default=(None, None))

PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:"

_STYLE = """
body { font: 16px/1.6 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
pre { background: #f5f5f7; padding: .75rem 1rem; overflow-x: auto; }
code { font-family: ui-monospace, monospace; font-size: .9em; }
blockquote { border-left: 3px solid #d2d2d7; margin-left: 0; padding-left: 1rem; color: #515154; }
hr { border: 0; border-top: 1px solid #d2d2d7; }
""".strip()

# Only on pages that have these nodes: a document without them exports byte for byte as it did before them.
_RICH_STYLE = """
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #d2d2d7; padding: .25rem .5rem; vertical-align: top; }
th { background: #f5f5f7; }
th > p, td > p { margin: 0; }
img { max-width: 100%; height: auto; }
ul[data-type="taskList"] { list-style: none; padding-left: .25rem; }
li[data-type="taskItem"] { display: flex; gap: .5rem; }
li[data-type="taskItem"] > div > p { margin: 0; }
""".strip()

# Only on pages with pending suggestions, for the same reason.
_SUGGESTION_STYLE = """
ins.suggestion { color: #18794e; background: #e9f6ee; text-decoration: underline; }
del.suggestion { color: #ce2c31; background: #fdecec; text-decoration: line-through; }
""".strip()


def render_fragment(source: Doc | bytes | dict, *, base_url: str | None = None,
                    image_src: ImageSrc | None = None) -> str:
    """Body markup of a document (a pycrdt Doc, its encoded state, or its ProseMirror JSON)."""
    tree = source if isinstance(source, dict) else document_tree(source)
    token = _IMAGES.set((base_url, image_src))
    try:
        return "\n".join(_block(node) for node in tree.get("content", ()))
    finally:
        _IMAGES.reset(token)


def render_page(source: Doc | bytes | dict, *, title: str, base_url: str | None = None,
                image_src: ImageSrc | None = None) -> str:
    """A complete, standalone HTML document."""
    tree = source if isinstance(source, dict) else document_tree(source)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_text(title)}</title>\n"
        f"<style>\n{_STYLE}\n{_RICH_STYLE + chr(10) if _is_rich(tree) else ''}"
        f"{_SUGGESTION_STYLE + chr(10) if has_suggestions(tree) else ''}</style>\n"
        "</head>\n"
        "<body>\n"
        "<article>\n"
        f"{render_fragment(tree, base_url=base_url, image_src=image_src)}\n"
        "</article>\n"
        "</body>\n"
        "</html>\n"
    )


@register
class HtmlRenderer(Renderer):
    name = "html"
    extension = "html"
    content_type = "text/html; charset=utf-8"

    def render(self, tree: dict, *, title: str, base_url: str | None = None) -> str:
        from ..images import inline_image_src  # the document's small images as data: URIs (export_context)

        return render_page(tree, title=title, base_url=base_url, image_src=inline_image_src)


def _is_rich(tree: dict) -> bool:
    stack = list(tree.get("content", ()))
    while stack:
        node = stack.pop()
        if node["type"] in ("table", "taskList", "image"):
            return True
        stack.extend(node.get("content", ()))
    return False


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
    if kind == "taskList":
        return f'<ul data-type="taskList">{_children(node)}</ul>'
    if kind == "taskItem":
        checked = attrs.get("checked") is True
        return (f'<li data-type="taskItem" data-checked="{"true" if checked else "false"}"><label>'
                f'<input type="checkbox" disabled{" checked" if checked else ""}></label>'
                f"<div>{_children(node)}</div></li>")
    if kind == "table":
        return f"<table><tbody>{_children(node)}</tbody></table>"
    if kind == "tableRow":
        return f"<tr>{_children(node)}</tr>"
    if kind in _CELL_TAGS:
        tag = _CELL_TAGS[kind]
        return f"<{tag}{_cell_attrs(attrs)}>{_children(node)}</{tag}>"
    if kind == "image":
        return _image(attrs)
    if kind in ("text", "hardBreak"):  # inline content where a block was expected
        return _inline([node])
    tag = _BLOCK_TAGS.get(kind)
    if tag is None:
        return _children(node)  # an unknown node: keep its content, not its markup
    return f"<{tag}>{_children(node)}</{tag}>"


def _cell_attrs(attrs: dict) -> str:
    out = ""
    for key in ("colspan", "rowspan"):
        value = attrs.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 1:
            out += f' {key}="{value}"'
    if attrs.get("align") in _ALIGNMENTS:
        # The attribute, not a style: the admin shows this markup under a CSP that forbids inline styles.
        out += f' align="{attrs["align"]}"'
    return out


def _image(attrs: dict) -> str:
    """<img src alt title>; an image whose source may not be loaded is its alt text, if it has one."""
    src = safe_image_src(attrs.get("src"))
    alt = attrs.get("alt") if isinstance(attrs.get("alt"), str) else None
    if src is None:
        return f"<p>{_text(alt)}</p>" if alt else ""
    base_url, hook = _IMAGES.get()
    src = absolute_src(src, base_url)
    if hook is not None:
        src = hook(src)
    out = f'<img src="{_attr(src)}"'
    if alt is not None:
        out += f' alt="{_attr(alt)}"'
    if isinstance(attrs.get("title"), str) and attrs["title"]:
        out += f' title="{_attr(attrs["title"])}"'
    return out + ">"


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
    return mark if mark["type"] in _MARK_TAGS or mark["type"] in _SUGGESTION_TAGS else None


def _open(mark: dict) -> str:
    if mark["type"] == "link":
        return f'<a href="{_attr(mark["attrs"]["href"])}" rel="noopener noreferrer nofollow">'
    if mark["type"] in _SUGGESTION_TAGS:
        tag, kind = _SUGGESTION_TAGS[mark["type"]]
        attrs = mark.get("attrs") or {}
        values = {key: attrs.get(key) if isinstance(attrs.get(key), str) else "" for key in _SUGGESTION_ATTRS}
        data = "".join(f' data-suggestion-{key}="{_attr(value)}"' for key, value in values.items())
        who = values["name"] or values["author"]
        return f'<{tag} class="suggestion"{data} title="{_attr(f"Suggested {kind} by {who}")}">'
    return f"<{_MARK_TAGS[mark['type']]}>"


def _close(mark: dict) -> str:
    if mark["type"] in _SUGGESTION_TAGS:
        return f"</{_SUGGESTION_TAGS[mark['type']][0]}>"
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

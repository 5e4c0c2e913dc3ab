"""Markdown import: CommonMark with GFM's strikethrough, tables and task lists (markdown-it-py).

markdown-it's token stream maps onto `TreeBuilder` one token at a time:
headings 1-6, lists, task items ("- [ ] x", "- [x] x": the item is a task,
a run of them a task list), tables (the header row's cells are
`tableHeader`s, a column's alignment each cell's `align`), images
(`![alt](src "title")`, a block in the editor: a paragraph is split around
one). Raw HTML goes through the HTML importer's checks: an HTML block is
sanitized and mapped, inline tags for formatting, line breaks and images
become marks, hard breaks and images, other inline tags are dropped. A
`javascript:` (or `data:`) link or image, or a script in raw HTML, refuses
the whole import, as in HTML (`data:` images of raster types are kept).

Every link target is accepted by the parser (markdown-it's own check would
keep a `javascript:` link as literal text, hiding it) so that this module
decides: script URLs refuse the import, other unsupported schemes keep
their text (schema.normalize).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll
from mdit_py_plugins.tasklists import tasklists_plugin

from .builder import TreeBuilder
from .html import MARK_TAGS, feed_html, hostile_link, hostile_reason
from ..export.links import safe_image_src
from .schema import ImportRefused, Notes

_BLOCK_MARKS = {"strong": "bold", "em": "italic", "s": "strike"}
# markdown-it writes a table column's alignment as style="text-align:left".
_ALIGN = re.compile(r"text-align:\s*(left|center|right)")


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable(["strikethrough", "table"]).use(tasklists_plugin)
    md.validateLink = lambda url: True
    return md


PARSER = _parser()


def parse_markdown(text: str, notes: Notes) -> dict:
    """A rough ProseMirror tree of the Markdown `text` (normalize it); ImportRefused if hostile."""
    builder = TreeBuilder(notes)
    tokens = PARSER.parse(text)
    for token in tokens:
        kind = token.type
        if kind == "paragraph_open":
            builder.open_textblock()
        elif kind == "heading_open":
            builder.open_textblock("heading", {"level": int(token.tag[1])})
        elif kind in ("paragraph_close", "heading_close"):
            builder.close_textblock()
        elif kind == "inline":
            _inline(token.children or [], builder)
        elif kind == "bullet_list_open":
            builder.open_container("bulletList")
        elif kind == "ordered_list_open":
            start = token.attrGet("start")
            builder.open_container("orderedList", {"start": int(start) if start is not None else 1})
        elif kind == "list_item_open":
            builder.open_container("listItem")
        elif kind == "blockquote_open":
            builder.open_container("blockquote")
        elif kind in ("bullet_list_close", "ordered_list_close", "list_item_close", "blockquote_close"):
            builder.close_container()
        elif kind in ("fence", "code_block"):
            info = unescapeAll(token.info).strip() if kind == "fence" else ""
            builder.code_block(info.split()[0] if info else None)
            builder.code_text(token.content[:-1] if token.content.endswith("\n") else token.content)
            builder.close_textblock()
        elif kind == "hr":
            builder.leaf("horizontalRule")
        elif kind == "html_block":
            builder.close_textblock()
            feed_html(token.content, builder)
            builder.close_textblock()
        elif kind == "table_open":
            builder.open_container("table")
        elif kind == "tr_open":
            builder.open_container("tableRow")
        elif kind in ("th_open", "td_open"):
            attrs = {"colspan": 1, "rowspan": 1}
            align = _ALIGN.search(str(token.attrGet("style") or ""))
            if align:
                attrs["align"] = align.group(1)
            builder.open_container("tableHeader" if kind == "th_open" else "tableCell", attrs)
        elif kind in ("table_close", "tr_close", "th_close", "td_close"):
            builder.close_container()
        # thead/tbody change nothing.
    return builder.finish()


def _inline(children, builder: TreeBuilder) -> None:
    after_checkbox = False
    for child in children:
        kind = child.type
        if kind == "text":
            # The task list plugin leaves the space after "[ ]" at the start of the item's text.
            builder.text(child.content.lstrip(" \t") if after_checkbox else child.content)
            after_checkbox = False
        elif kind == "softbreak":
            builder.text(" ")
        elif kind == "hardbreak":
            builder.hard_break()
        elif kind == "code_inline":
            builder.push_mark({"type": "code"})
            builder.text(child.content)
            builder.pop_mark("code")
        elif kind.endswith("_open") and kind[:-5] in _BLOCK_MARKS:
            builder.push_mark({"type": _BLOCK_MARKS[kind[:-5]]})
        elif kind.endswith("_close") and kind[:-6] in _BLOCK_MARKS:
            builder.pop_mark(_BLOCK_MARKS[kind[:-6]])
        elif kind == "link_open":
            href = child.attrGet("href") or ""
            if hostile_link(href):
                raise ImportRefused(f"Refused: the Markdown contains a {hostile_link(href)}: link. "
                                    "Scripts do not run in documents; remove it and import again.")
            builder.push_mark({"type": "link", "attrs": {"href": href}})
        elif kind == "link_close":
            builder.pop_mark("link")
        elif kind == "image":
            src = child.attrGet("src") or ""
            if hostile_link(src) and not safe_image_src(src):
                raise ImportRefused(f"Refused: the Markdown contains a {hostile_link(src)}: image. "
                                    "Scripts do not run in documents; remove it and import again.")
            builder.image({"src": src, "alt": alt_text(child), "title": child.attrGet("title") or None})
        elif kind == "html_inline":
            after_checkbox = _html_inline(child.content, builder)


def alt_text(image) -> str:
    """An image's alt text as markdown-it renders it: the text of its description, markup left out."""
    parts = []
    for child in image.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(alt_text(child))
    return "".join(parts)


def _html_inline(markup: str, builder: TreeBuilder) -> bool:
    """Maps one inline HTML tag; True if it was the task list plugin's checkbox."""
    if markup.startswith('<input class="task-list-item-checkbox"'):
        # The task list plugin's checkbox. The same text written as raw HTML at an item's start makes it a
        # task too, which is what it says; elsewhere `task_item` finds no list item and does nothing.
        builder.task_item('checked="checked"' in markup)
        return True
    tag = _InlineTag.read(markup)
    if tag is None:
        builder.notes.add("html")
        return False
    name, attrs, closing = tag
    reason = hostile_reason(name, attrs)
    if reason is not None:
        raise ImportRefused(f"Refused: the Markdown's HTML contains {reason}. Scripts do not run in documents; "
                            "remove it and import again.")
    if name == "br":
        builder.hard_break()
    elif name in MARK_TAGS:
        builder.pop_mark(MARK_TAGS[name]) if closing else builder.push_mark({"type": MARK_TAGS[name]})
    elif name == "a" and closing:
        builder.pop_mark("link")
    elif name == "a" and dict(attrs).get("href"):
        # Encoded as markdown-it encodes a Markdown link's target, so that the exported link reads back the same.
        builder.push_mark({"type": "link", "attrs": {"href": PARSER.normalizeLink(dict(attrs)["href"])}})
    else:
        if name == "img" and not closing:
            found = dict(attrs)
            builder.image({"src": found.get("src") or "", "alt": found.get("alt"), "title": found.get("title"),
                           "width": found.get("width"), "height": found.get("height")})
        else:
            builder.notes.add("html")
    return False


class _InlineTag(HTMLParser):
    """One inline HTML tag as markdown-it gives it ("<b>", "</b>", "<a href=...>"): its name and attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tag: tuple[str, list, bool] | None = None

    @classmethod
    def read(cls, markup: str):
        parser = cls()
        parser.feed(markup)
        parser.close()
        return parser.tag

    def handle_starttag(self, tag, attrs):
        self.tag = self.tag or (tag, attrs, False)

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        self.tag = self.tag or (tag, [], True)

"""Markdown import: CommonMark with GFM's strikethrough, tables and task lists (markdown-it-py).

markdown-it's token stream maps onto `TreeBuilder` one token at a time.
What the editor cannot hold degrades: a table becomes a paragraph per row
(cells separated by " | "), a task item a list item starting with "[ ] " or
"[x] ", an image is skipped, a heading deeper than 3 becomes a level 3.
Raw HTML goes through the HTML importer's checks: an HTML block is
sanitized and mapped, inline tags for formatting and line breaks become
marks and hard breaks, other inline tags are dropped. A `javascript:` link
(or `data:`) link or a script in raw HTML refuses the whole import, as in
HTML.

Every link target is accepted by the parser (markdown-it's own check would
keep a `javascript:` link as literal text, hiding it) so that this module
decides: script URLs refuse the import, other unsupported schemes keep
their text (schema.normalize).
"""

from __future__ import annotations

from html.parser import HTMLParser

from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll
from mdit_py_plugins.tasklists import tasklists_plugin

from .builder import TreeBuilder
from .html import MARK_TAGS, feed_html, hostile_link, hostile_reason
from .schema import ImportRefused, Notes

_BLOCK_MARKS = {"strong": "bold", "em": "italic", "s": "strike"}


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
        elif kind in ("paragraph_close", "heading_close", "tr_close"):
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
            notes.add("table")
        elif kind == "tr_open":
            builder.row()
        elif kind in ("th_open", "td_open"):
            builder.cell()
        # thead/tbody/th/td closes and table_close change nothing.
    return builder.finish()


def _inline(children, builder: TreeBuilder) -> None:
    for child in children:
        kind = child.type
        if kind == "text":
            builder.text(child.content)
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
            builder.notes.add("image")
            builder.skip_inline()
        elif kind == "html_inline":
            _html_inline(child.content, builder)


def _html_inline(markup: str, builder: TreeBuilder) -> None:
    if "task-list-item-checkbox" in markup:
        # The task list plugin's checkbox: the schema has no task items, so it stays text.
        builder.notes.add("task")
        builder.text("[x]" if "checked" in markup else "[ ]")
        return
    tag = _InlineTag.read(markup)
    if tag is None:
        builder.notes.add("html")
        return
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
        if name in ("img", "picture"):
            builder.notes.add("image")
            builder.skip_inline()
        else:
            builder.notes.add("html")


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

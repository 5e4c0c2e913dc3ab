"""Building a rough ProseMirror tree from a stream of open/close events (Markdown tokens, HTML tags).

The Markdown and HTML importers both say "a list starts", "a paragraph
starts", "text with these marks", "it ends"; this class turns that into
nested JSON nodes, which `schema.normalize` then fits to the editor. It
forgives: text outside any paragraph opens one, a block inside a paragraph
closes it, and containers (quotes, lists, tables, their rows and cells) nested deeper than `schema.MAX_DEPTH` add no more
levels (their content goes into the deepest one), so that hostile nesting
cannot make the tree deep.
"""

from __future__ import annotations

import re

from .schema import MAX_DEPTH, Notes

_SPACE = re.compile(r"[ \t\n\r\f]+")


class TreeBuilder:
    def __init__(self, notes: Notes, *, collapse_space: bool = False):
        self.notes = notes
        # HTML: runs of whitespace are one space, and none at a paragraph's edges.
        self.collapse_space = collapse_space
        self.doc: dict = {"type": "doc", "content": []}
        # Open containers (doc, blockquote, lists, list items), innermost last; None for a level not kept.
        self.containers: list[dict | None] = [self.doc]
        self.textblock: dict | None = None
        self.code: dict | None = None  # the open code block, whose text is kept as it is
        self.marks: list[dict] = []
        self.skipped_inline = False  # an inline object (image) of the open textblock was left out
        self._deep_noted = False

    # --- containers -------------------------------------------------------------------

    def _parent(self) -> dict:
        return next(node for node in reversed(self.containers) if node is not None)

    def open_container(self, kind: str, attrs: dict | None = None) -> None:
        self.close_textblock()
        if sum(node is not None for node in self.containers) >= MAX_DEPTH:
            if not self._deep_noted:
                self.notes.add("deep")
                self._deep_noted = True
            self.containers.append(None)
            return
        node: dict = {"type": kind, "content": []}
        if attrs:
            node["attrs"] = attrs
        self._parent()["content"].append(node)
        self.containers.append(node)

    def close_container(self) -> None:
        self.close_textblock()
        if len(self.containers) > 1:
            self.containers.pop()

    # --- textblocks -------------------------------------------------------------------

    def open_textblock(self, kind: str = "paragraph", attrs: dict | None = None) -> None:
        self.close_textblock()
        node: dict = {"type": kind, "content": []}
        if attrs:
            node["attrs"] = attrs
        self._parent()["content"].append(node)
        self.textblock = node

    def close_textblock(self) -> None:
        if self.code is not None:
            self.code = None
        if self.textblock is not None:
            # Spaces at a paragraph's edges: HTML does not show them, and in Markdown they are
            # what is left beside a skipped image (elsewhere there, they were written on purpose).
            if self.collapse_space or self.skipped_inline:
                _trim(self.textblock["content"])
            self.skipped_inline = False
            self.textblock = None

    def leaf(self, kind: str) -> None:
        """A block without content (horizontalRule)."""
        self.close_textblock()
        self._parent()["content"].append({"type": kind})

    def code_block(self, language: str | None = None) -> None:
        """Open a code block; `code_text` adds to it until `close_textblock`."""
        self.close_textblock()
        node: dict = {"type": "codeBlock", "content": []}
        if language:
            node["attrs"] = {"language": language}
        self._parent()["content"].append(node)
        self.code = node

    def set_code_language(self, language: str) -> None:
        if self.code is not None and language:
            self.code["attrs"] = {"language": language}

    def code_text(self, text: str) -> None:
        if self.code is not None and text:
            self.code["content"].append({"type": "text", "text": text})

    # --- inline -----------------------------------------------------------------------

    def text(self, text: str) -> None:
        if self.code is not None:
            self.code_text(text)
            return
        if self.collapse_space:
            text = _SPACE.sub(" ", text)
            if self.textblock is None and not text.strip():
                return  # whitespace between blocks
        if not text:
            return
        if self.textblock is None:
            self.open_textblock()
        if self.collapse_space:
            content = self.textblock["content"]
            previous = _last_char(content)
            if text.startswith(" ") and (previous is None or previous in " \n"):
                text = text.lstrip(" ")
                if not text:
                    return
        node: dict = {"type": "text", "text": text}
        if self.marks:
            node["marks"] = [dict(mark) for mark in self.marks]
        self.textblock["content"].append(node)

    def hard_break(self) -> None:
        if self.code is not None:
            self.code_text("\n")
            return
        if self.textblock is None:
            self.open_textblock()
        if self.collapse_space:
            _trim_end(self.textblock["content"])
        self.textblock["content"].append({"type": "hardBreak"})

    def skip_inline(self) -> None:
        """An inline object (an image) is left out here: the spaces beside it go too."""
        self.skipped_inline = True

    def push_mark(self, mark: dict) -> None:
        self.marks.append(mark)

    def pop_mark(self, kind: str) -> None:
        for index in range(len(self.marks) - 1, -1, -1):
            if self.marks[index]["type"] == kind:
                del self.marks[index]
                return

    # --- rich nodes -------------------------------------------------------------------

    def image(self, attrs: dict) -> None:
        """An image where it stands: in the open paragraph (`schema.normalize` splits it there, Tiptap's
        image being a block) or as a block of its own. Its address is checked by `normalize`."""
        node = {"type": "image", "attrs": {key: value for key, value in attrs.items() if value is not None}}
        if self.code is not None:
            return
        if self.textblock is not None:
            self.textblock["content"].append(node)
        else:
            self._parent()["content"].append(node)

    def task_item(self, checked: bool) -> None:
        """The innermost open list item is a task item (`normalize` makes a run of them a task list)."""
        for node in reversed(self.containers):
            if node is None:
                continue
            if node["type"] in ("listItem", "taskItem"):
                node["type"] = "taskItem"
                node["attrs"] = {"checked": checked}
            return

    def in_item(self) -> bool:
        """Whether the innermost open container is a list item (where a checkbox makes a task)."""
        parent = self._parent()
        return parent["type"] in ("listItem", "taskItem")

    def finish(self) -> dict:
        self.close_textblock()
        return self.doc


def _last_char(content: list[dict]) -> str | None:
    if not content:
        return None
    last = content[-1]
    if last["type"] != "text":  # a hard break, or an image (where the paragraph will be split)
        return "\n"
    return last["text"][-1:] or None


def _trim_end(content: list[dict]) -> None:
    while content and content[-1]["type"] == "text":
        content[-1]["text"] = content[-1]["text"].rstrip(" ")
        if content[-1]["text"]:
            return
        content.pop()


def _trim(content: list[dict]) -> None:
    _trim_end(content)
    while content and content[0]["type"] == "text":
        content[0]["text"] = content[0]["text"].lstrip(" ")
        if content[0]["text"]:
            return
        content.pop(0)

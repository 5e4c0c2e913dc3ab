"""The editor's schema, and fitting a loosely built ProseMirror tree into it.

Every importer builds a rough tree of ProseMirror JSON nodes (whatever its
source gave) and hands it to `normalize`, which returns a document that
Tiptap loads as it is and that survives a trip through Yjs unchanged
(`ydoc.prosemirror_to_doc`, then `export.tree.document_tree`):

- only the nodes and marks the editor has (frontend/js/editor.js: StarterKit
  without underline, plus Link; headings 1 to 3);
- `listItem` starts with a paragraph (Tiptap: `paragraph block*`), lists and
  quotes are never empty, `codeBlock` holds unmarked text only and its
  language is one word;
- text nodes are never empty, adjacent ones with the same marks are merged,
  marks come in the export's canonical order (`tree.mark_rank`);
- one link per text (the innermost); `code` stands alone (Tiptap's code
  mark excludes every other), except that a link keeps its target and loses
  the code formatting instead;
- links keep only a safe target (`links.safe_href`), otherwise their text;
- the document's trailing empty paragraphs are dropped, as the export does.

What does not fit degrades to text and is counted in `Notes`. The tree
handed in is at most `MAX_DEPTH` deep (the importers cap it), so the
recursion here is bounded.
"""

from __future__ import annotations

from collections import Counter

from ..export.links import safe_href
from ..export.tree import mark_rank


class ImportRefused(ValueError):
    """The input cannot or must not be imported; `status` is the HTTP status to answer with."""

    def __init__(self, detail: str, status: int = 422):
        super().__init__(detail)
        self.detail = detail
        self.status = status

    def __reduce__(self):
        # Raised in the import worker process (worker.py), re-raised here: keep the status.
        return (type(self), (self.detail, self.status))


BLOCKS = frozenset({"paragraph", "heading", "bulletList", "orderedList", "blockquote", "codeBlock",
                    "horizontalRule"})
TEXTBLOCKS = frozenset({"paragraph", "heading"})
LISTS = frozenset({"bulletList", "orderedList"})
MARKS = frozenset({"link", "bold", "italic", "strike", "code"})
HEADING_LEVELS = (1, 2, 3)  # editor.js: heading: { levels: [1, 2, 3] }

# Deepest block nesting an importer builds; deeper content is flattened into
# its ancestor at this depth. Well below the export's own cap (tree.MAX_DEPTH).
MAX_DEPTH = 64
# Nodes in one imported document: beyond it the import is refused (413), as a
# document that large could not be edited anyway.
MAX_NODES = 300_000

# The note for each kind of thing dropped or simplified, by count.
_NOTES = {
    "image": ("1 image skipped", "{n} images skipped"),
    "embed": ("1 embedded object skipped", "{n} embedded objects skipped"),
    "table": ("1 table turned into text (a paragraph per row)", "{n} tables turned into text (a paragraph per row)"),
    "task": ("1 task list item kept as a list item with [ ] or [x] text",
             "{n} task list items kept as list items with [ ] or [x] text"),
    "heading": ("1 heading deeper than level 3 became level 3", "{n} headings deeper than level 3 became level 3"),
    "link": ("1 link with an unsupported target kept as text", "{n} links with an unsupported target kept as text"),
    "html": ("1 raw HTML tag dropped", "{n} raw HTML tags dropped"),
    "mark": ("1 kind of formatting the editor lacks dropped (its text kept)",
             "{n} pieces of formatting the editor lacks dropped (their text kept)"),
    "code-in-link": ("1 code span inside a link kept as link text", "{n} code spans inside links kept as link text"),
    "node": ("1 element the editor lacks kept as its text", "{n} elements the editor lacks kept as their text"),
    "deep": ("content nested deeper than {max} levels was flattened", "content nested deeper than {max} levels was flattened"),
    "form": ("1 form control skipped", "{n} form controls skipped"),
}


class Notes:
    """Counts of what an import dropped or simplified; `messages()` says it in sentences."""

    def __init__(self):
        self.counts: Counter[str] = Counter()
        self.extra: list[str] = []

    def add(self, kind: str, count: int = 1) -> None:
        self.counts[kind] += count

    def say(self, message: str) -> None:
        if message not in self.extra:
            self.extra.append(message)

    def messages(self) -> list[str]:
        out = []
        for kind, (one, many) in _NOTES.items():
            n = self.counts.get(kind, 0)
            if n:
                out.append((one if n == 1 else many).format(n=n, max=MAX_DEPTH))
        return out + self.extra


def normalize(doc: dict, notes: Notes, *, drop_empty_paragraphs: bool = False) -> dict:
    """The document fitted to the editor's schema (see the module's docstring).

    `drop_empty_paragraphs`: for sources where an empty paragraph is an
    artefact (Markdown has none: one there is what is left of a skipped image).
    """
    budget = _Budget()
    budget.drop_empty = drop_empty_paragraphs
    content = _blocks(doc.get("content") or [], notes, budget)
    while content and content[-1]["type"] == "paragraph" and not content[-1].get("content"):
        content.pop()
    return {"type": "doc", "content": content}


class _Budget:
    """Nodes still allowed (MAX_NODES), and the walk's options."""

    def __init__(self):
        self.left = MAX_NODES
        self.drop_empty = False

    def spend(self, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise ImportRefused(f"The document is too large to import: more than {MAX_NODES} elements", 413)


def _blocks(nodes: list, notes: Notes, budget: _Budget) -> list[dict]:
    out: list[dict] = []
    inline: list[dict] = []

    def flush():
        if inline:
            out.append(_textblock("paragraph", None, inline, notes, budget))
            inline.clear()

    for node in nodes:
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind in ("text", "hardBreak"):
            inline.append(node)
            continue
        flush()
        content = node.get("content") or []
        attrs = node.get("attrs") if isinstance(node.get("attrs"), dict) else {}
        budget.spend()
        if kind in TEXTBLOCKS:
            block = _textblock(kind, attrs, content, notes, budget)
            if block.get("content") or not (budget.drop_empty and kind == "paragraph"):
                out.append(block)
        elif kind == "codeBlock":
            out.append(_code_block(attrs, content))
        elif kind == "horizontalRule":
            out.append({"type": "horizontalRule"})
        elif kind == "blockquote":
            out.append({"type": "blockquote", "content": _blocks(content, notes, budget) or [{"type": "paragraph"}]})
        elif kind in LISTS:
            listed = _list(kind, attrs, content, notes, budget)
            if listed:
                out.append(listed)
        elif kind == "listItem":
            # An item outside a list: its blocks.
            out.extend(_blocks(content, notes, budget))
        else:
            notes.add("node")
            out.extend(_blocks(content, notes, budget))
    flush()
    return out


def _textblock(kind: str, attrs: dict | None, content: list, notes: Notes, budget: _Budget) -> dict:
    node: dict = {"type": kind}
    if kind == "heading":
        level = attrs.get("level") if attrs else None
        if isinstance(level, float) and level.is_integer():
            level = int(level)
        if not isinstance(level, int) or isinstance(level, bool) or level < 1:
            level = 1
        if level > HEADING_LEVELS[-1]:
            notes.add("heading")
            level = HEADING_LEVELS[-1]
        node["attrs"] = {"level": level}
    inline = _inline(content, notes, budget)
    if inline:
        node["content"] = inline
    return node


def _code_block(attrs: dict, content: list) -> dict:
    text = _plain_text(content)
    node: dict = {"type": "codeBlock"}
    language = attrs.get("language")
    if isinstance(language, str) and language.strip():
        # One word, as a Markdown fence's info string gives it (and HTML's class="language-x").
        node["attrs"] = {"language": language.split()[0]}
    if text:
        node["content"] = [{"type": "text", "text": text}]
    return node


def _plain_text(content: list) -> str:
    parts: list[str] = []
    stack = list(reversed(content))
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        if node.get("type") == "text":
            text = node.get("text")
            parts.append(text if isinstance(text, str) else "")
        elif node.get("type") == "hardBreak":
            parts.append("\n")
        else:
            stack.extend(reversed(node.get("content") or []))
    return "".join(parts)


def _list(kind: str, attrs: dict, content: list, notes: Notes, budget: _Budget) -> dict | None:
    items = []
    loose: list = []  # blocks between items, which join the item before them

    for child in content:
        if not isinstance(child, dict):
            continue
        if child.get("type") == "listItem":
            if loose and items:
                items[-1]["content"].extend(_blocks(loose, notes, budget))
            elif loose:
                items.append(_list_item(loose, notes, budget))
            loose = []
            items.append(_list_item(child.get("content") or [], notes, budget))
        else:
            loose.append(child)
    if loose:
        if items:
            items[-1]["content"].extend(_blocks(loose, notes, budget))
        else:
            items.append(_list_item(loose, notes, budget))
    if not items:
        return None
    node: dict = {"type": kind}
    if kind == "orderedList":
        start = attrs.get("start", 1)
        if isinstance(start, float) and start.is_integer():
            start = int(start)
        if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start <= 999_999_999:
            start = 1
        node["attrs"] = {"start": start}
    node["content"] = items
    return node


def _list_item(content: list, notes: Notes, budget: _Budget) -> dict:
    budget.spend()
    blocks = _blocks(content, notes, budget)
    if not blocks:
        blocks = [{"type": "paragraph"}]
    elif blocks[0]["type"] == "heading":
        # Tiptap's listItem must start with a paragraph: a heading there keeps its text.
        first = {"type": "paragraph"}
        if blocks[0].get("content"):
            first["content"] = blocks[0]["content"]
        blocks[0] = first
    elif blocks[0]["type"] != "paragraph":
        blocks.insert(0, {"type": "paragraph"})
    return {"type": "listItem", "content": blocks}


def _inline(content: list, notes: Notes, budget: _Budget) -> list[dict]:
    out: list[dict] = []
    stack = list(reversed(content))
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == "hardBreak":
            budget.spend()
            out.append({"type": "hardBreak"})
        elif kind == "text":
            text = node.get("text")
            if not isinstance(text, str) or not text:
                continue
            marks = _marks(node.get("marks") or [], notes)
            if out and out[-1]["type"] == "text" and out[-1].get("marks") == marks:
                out[-1]["text"] += text
                continue
            budget.spend()
            piece = {"type": "text", "text": text}
            if marks:
                piece["marks"] = marks
            out.append(piece)
        else:
            # Block content inside a textblock (a paragraph in a heading...): its inline content.
            stack.extend(reversed(node.get("content") or []))
    return out


def _marks(marks: list, notes: Notes) -> list[dict] | None:
    out: list[dict] = []
    for mark in marks:
        if not isinstance(mark, dict):
            continue
        kind = mark.get("type")
        if kind not in MARKS:
            notes.add("mark")
            continue
        if kind == "link":
            attrs = mark.get("attrs") if isinstance(mark.get("attrs"), dict) else {}
            href = safe_href(attrs.get("href"))
            if href is None:
                notes.add("link")
                continue
            kept = {"href": href}
            title = attrs.get("title")
            if isinstance(title, str) and title:
                kept["title"] = title
            mark = {"type": "link", "attrs": kept}
        else:
            mark = {"type": kind}
        if mark not in out:
            out.append(mark)
    links = [m for m in out if m["type"] == "link"]
    if len(links) > 1:
        # A link inside a link: ProseMirror holds one link mark per text; the innermost (last opened) wins.
        out = [m for m in out if m["type"] != "link" or m is links[-1]]
    if any(m["type"] == "code" for m in out) and len(out) > 1:
        if any(m["type"] == "link" for m in out):
            notes.add("code-in-link")
            out = [m for m in out if m["type"] != "code"]
        else:
            out = [m for m in out if m["type"] == "code"]
    out.sort(key=mark_rank)
    return out or None


def count_depth(tree: dict) -> int:
    """The nesting depth of a JSON tree, without recursing (for input from outside)."""
    deepest = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            for child in node.get("content") or () if isinstance(node.get("content"), list) else ():
                stack.append((child, depth + 1))
    return deepest

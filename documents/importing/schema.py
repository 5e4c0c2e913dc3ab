"""The editor's schema, and fitting a loosely built ProseMirror tree into it.

Every importer builds a rough tree of ProseMirror JSON nodes (whatever its
source gave) and hands it to `normalize`, which returns a document that
Tiptap loads as it is and that survives a trip through Yjs unchanged
(`ydoc.prosemirror_to_doc`, then `export.tree.document_tree`):

- only the nodes and marks the editor has (frontend/js/editor.js: StarterKit
  without underline, plus Link, headings 1 to 6, and Tiptap's Table,
  TaskList/TaskItem and Image extensions with their default names and attrs);
- `listItem` and `taskItem` start with a paragraph (Tiptap: `paragraph
  block*`; task items nest), lists and quotes are never empty, `codeBlock`
  holds unmarked text only and its language is one word;
- a `table` holds `tableRow`s only, a row holds `tableCell`/`tableHeader`s
  only (anything else there is wrapped in one), a cell holds blocks (at
  least a paragraph) and always says its `colspan` and `rowspan`, as the
  editor writes them; a row or cell found outside a table gets one. A table
  spans at most `MAX_TABLE_CELLS` grid cells (rows times columns): beyond
  that the import is refused (413), as prosemirror-tables lays the grid out
  in the browser;
- `image` is a block (Tiptap's default): one found inside a paragraph splits
  it there. Its `src` must be http(s), relative, or a `data:` URI of a
  raster image (`links.safe_image_src`), or the image is dropped with a note;
- `taskItem` always says `checked` (a boolean), as the editor writes it;
- text nodes are never empty, adjacent ones with the same marks are merged,
  marks come in the export's canonical order (`tree.mark_rank`);
- pending suggestions (`suggestionInsert`, `suggestionDelete`: frontend/js/
  suggestion-marks.js, export/suggestions.py) keep their id, author, name
  and at as strings of bounded length; one without an id is dropped (its
  text kept), as is one on code (Tiptap's code mark excludes it);
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

from ..export.links import safe_href, safe_image_src
from ..export.suggestions import ATTRS as SUGGESTION_ATTRS
from ..export.suggestions import DELETE as SUGGESTED_DELETION
from ..export.suggestions import INSERT as SUGGESTED_INSERTION
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


BLOCKS = frozenset({"paragraph", "heading", "bulletList", "orderedList", "taskList", "blockquote", "codeBlock",
                    "horizontalRule", "table", "image"})
TEXTBLOCKS = frozenset({"paragraph", "heading"})
LISTS = frozenset({"bulletList", "orderedList", "taskList"})
ITEMS = frozenset({"listItem", "taskItem"})
CELLS = frozenset({"tableCell", "tableHeader"})
MARKS = frozenset({"link", "bold", "italic", "strike", "code", SUGGESTED_INSERTION, SUGGESTED_DELETION})
HEADING_LEVELS = (1, 2, 3, 4, 5, 6)  # editor.js: heading: { levels: [1, 2, 3, 4, 5, 6] }
# Tiptap's cell alignment attribute (text-align), kept when it is one of these.
ALIGNMENTS = frozenset({"left", "center", "right"})

# Deepest block nesting an importer builds; deeper content is flattened into
# its ancestor at this depth. Well below the export's own cap (tree.MAX_DEPTH).
MAX_DEPTH = 64
# Nodes in one imported document: beyond it the import is refused (413), as a
# document that large could not be edited anyway.
MAX_NODES = 300_000
# Grid cells (rows times columns, merged cells counted by their span) in one table. prosemirror-tables
# maps a table's whole grid in the browser on every change: 100 x 100 is already slow to edit.
MAX_TABLE_CELLS = 10_000
# A merged cell spans at most this many columns (the grid limit above bounds the rest).
MAX_SPAN = 1_000

# The note for each kind of thing dropped or simplified, by count.
_NOTES = {
    "image": ("1 image skipped", "{n} images skipped"),
    "image-src": ("1 image with an unsupported address skipped", "{n} images with an unsupported address skipped"),
    "embed": ("1 embedded object skipped", "{n} embedded objects skipped"),
    "heading": ("1 heading deeper than level 6 became level 6", "{n} headings deeper than level 6 became level 6"),
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
            out.extend(_textblocks("paragraph", None, inline, notes, budget))
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
        if not isinstance(content, list):
            content = []
        attrs = node.get("attrs") if isinstance(node.get("attrs"), dict) else {}
        budget.spend()
        if kind in TEXTBLOCKS:
            for block in _textblocks(kind, attrs, content, notes, budget):
                if block.get("content") or not (budget.drop_empty and block["type"] == "paragraph"):
                    out.append(block)
        elif kind == "codeBlock":
            out.append(_code_block(attrs, content))
        elif kind == "horizontalRule":
            out.append({"type": "horizontalRule"})
        elif kind == "image":
            image = _image(attrs, notes)
            if image:
                out.append(image)
        elif kind == "blockquote":
            out.append({"type": "blockquote", "content": _blocks(content, notes, budget) or [{"type": "paragraph"}]})
        elif kind in LISTS:
            out.extend(_list(kind, attrs, content, notes, budget))
        elif kind in ITEMS:
            # An item outside a list: its blocks.
            out.extend(_blocks(content, notes, budget))
        elif kind == "table":
            table = _table(content, notes, budget)
            if table:
                out.append(table)
        elif kind == "tableRow":
            # A row outside a table: a table of its own (and a cell outside a row, below, a row of its own).
            table = _table([node], notes, budget)
            if table:
                out.append(table)
        elif kind in CELLS:
            out.append(_table([{"type": "tableRow", "content": [node]}], notes, budget))
        else:
            notes.add("node")
            out.extend(_blocks(content, notes, budget))
    flush()
    return out


def _textblocks(kind: str, attrs: dict | None, content: list, notes: Notes, budget: _Budget) -> list[dict]:
    """The textblock, split around any image in its content (Tiptap's image is a block of its own)."""
    if not any(isinstance(node, dict) and node.get("type") == "image" for node in content):
        return [_textblock(kind, attrs, content, notes, budget)]
    out: list[dict] = []
    piece: list = []
    for node in [*content, None]:
        if node is not None and not (isinstance(node, dict) and node.get("type") == "image"):
            piece.append(node)
            continue
        block = _textblock(kind, attrs, piece, notes, budget)
        _trim_edges(block)
        if block.get("content"):
            out.append(block)
        piece = []
        if node is not None:
            image = _image(node.get("attrs") if isinstance(node.get("attrs"), dict) else {}, notes)
            if image:
                budget.spend()
                out.append(image)
    return out


def _trim_edges(block: dict) -> None:
    """Whitespace where a paragraph was split around an image: invisible, and what separated it from the image."""
    content = block.get("content") or []
    if content and content[0]["type"] == "text":
        content[0]["text"] = content[0]["text"].lstrip()
    if content and content[-1]["type"] == "text":
        content[-1]["text"] = content[-1]["text"].rstrip()
    content[:] = [node for node in content if node["type"] != "text" or node["text"]]
    if not content:
        block.pop("content", None)


def _image(attrs: dict, notes: Notes) -> dict | None:
    src = safe_image_src(attrs.get("src"))
    if src is None:
        notes.add("image-src")
        return None
    kept: dict = {"src": src}
    for key in ("alt", "title"):
        if isinstance(attrs.get(key), str):
            kept[key] = attrs[key]
    for key in ("width", "height"):
        size = _integer(attrs.get(key))
        if size is not None and 0 < size <= 100_000:
            kept[key] = size
    return {"type": "image", "attrs": kept}


def _integer(value) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 10:
        value = int(value.strip())
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _table(content: list, notes: Notes, budget: _Budget) -> dict | None:
    """A table of rows of cells; what else is found in it is wrapped into a cell of a row of its own."""
    rows: list[dict] = []
    stray: list = []  # cells or blocks directly in the table, which make a row together

    def flush():
        if stray:
            row = _row(list(stray), notes, budget)
            if row:
                rows.append(row)
            stray.clear()

    for child in content:
        if not isinstance(child, dict):
            continue
        if child.get("type") == "tableRow":
            flush()
            budget.spend()
            row = _row(child.get("content") if isinstance(child.get("content"), list) else [], notes, budget)
            if row:
                rows.append(row)
        elif child.get("type") in ("thead", "tbody", "tfoot"):
            flush()
            inner = _table(child.get("content") if isinstance(child.get("content"), list) else [], notes, budget)
            rows.extend(inner["content"] if inner else [])
        else:
            stray.append(child)
    flush()
    if not rows:
        return None
    _fit_spans(rows)
    return {"type": "table", "content": rows}


def _row(content: list, notes: Notes, budget: _Budget) -> dict | None:
    cells: list[dict] = []
    loose: list = []  # blocks between cells: a cell of their own

    def flush():
        if loose:
            budget.spend()
            cells.append(_cell("tableCell", {}, list(loose), notes, budget))
            loose.clear()

    for child in content:
        if not isinstance(child, dict):
            continue
        if child.get("type") in CELLS:
            flush()
            budget.spend()
            attrs = child.get("attrs") if isinstance(child.get("attrs"), dict) else {}
            cells.append(_cell(child["type"], attrs, child.get("content") if isinstance(child.get("content"), list)
                               else [], notes, budget))
        else:
            loose.append(child)
    flush()
    return {"type": "tableRow", "content": cells} if cells else None


def _cell(kind: str, attrs: dict, content: list, notes: Notes, budget: _Budget) -> dict:
    span = {}
    for key in ("colspan", "rowspan"):
        value = _integer(attrs.get(key))
        span[key] = min(value, MAX_SPAN) if value is not None and value >= 1 else 1
    colwidth = attrs.get("colwidth")
    if isinstance(colwidth, list) and colwidth:
        widths = [_integer(width) for width in colwidth]
        if len(widths) == span["colspan"] and all(w is not None and 0 < w <= 100_000 for w in widths):
            span["colwidth"] = widths
    if attrs.get("align") in ALIGNMENTS:
        span["align"] = attrs["align"]
    return {"type": kind, "attrs": span, "content": _blocks(content, notes, budget) or [{"type": "paragraph"}]}


def _fit_spans(rows: list[dict]) -> None:
    """Row spans end at the table's last row; refuse a grid larger than MAX_TABLE_CELLS."""
    width = 0
    for index, row in enumerate(rows):
        left = len(rows) - index
        for cell in row["content"]:
            cell["attrs"]["rowspan"] = min(cell["attrs"]["rowspan"], left)
        width = max(width, sum(cell["attrs"]["colspan"] for cell in row["content"]))
    if width * len(rows) > MAX_TABLE_CELLS:
        raise ImportRefused(f"A table is too large to import: {len(rows)} rows by {width} columns, more than "
                            f"{MAX_TABLE_CELLS} cells", 413)


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


def _list(kind: str, attrs: dict, content: list, notes: Notes, budget: _Budget) -> list[dict]:
    """The list, as one or more lists: a run of task items in a bullet or ordered list is a task list
    of its own (Markdown's "- [ ] x" marks items, not lists), a run of plain items in a task list a bullet list."""
    items: list[dict] = []
    loose: list = []  # blocks between items, which join the item before them

    for child in content:
        if not isinstance(child, dict):
            continue
        if child.get("type") in ITEMS:
            if loose and items:
                items[-1]["content"].extend(_blocks(loose, notes, budget))
            elif loose:
                items.append(_list_item(_item_kind(kind, None), {}, loose, notes, budget))
            loose = []
            attrs_in = child.get("attrs") if isinstance(child.get("attrs"), dict) else {}
            item_content = child.get("content") if isinstance(child.get("content"), list) else []
            items.append(_list_item(_item_kind(kind, child), attrs_in, item_content, notes, budget))
        else:
            loose.append(child)
    if loose:
        if items:
            items[-1]["content"].extend(_blocks(loose, notes, budget))
        else:
            items.append(_list_item(_item_kind(kind, None), {}, loose, notes, budget))
    out: list[dict] = []
    index = 0
    for item in items:
        item_list = "taskList" if item["type"] == "taskItem" else (kind if kind != "taskList" else "bulletList")
        if not out or out[-1]["type"] != item_list:
            out.append({"type": item_list, "content": []})
            if item_list == "orderedList":
                out[-1]["attrs"] = {"start": _start(attrs) + index}
        out[-1]["content"].append(item)
        index += 1
    # A JSON "attrs" key comes before "content", as in the export.
    return [({"type": node["type"], "attrs": node["attrs"], "content": node["content"]} if "attrs" in node else node)
            for node in out]


def _item_kind(list_kind: str, child: dict | None) -> str:
    """A task list's items are task items; elsewhere an item is what it says it is."""
    if list_kind == "taskList":
        return "taskItem"
    if child is not None and child.get("type") == "taskItem":
        return "taskItem"
    return "listItem"


def _start(attrs: dict) -> int:
    start = attrs.get("start", 1)
    if isinstance(start, float) and start.is_integer():
        start = int(start)
    if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start <= 999_999_999:
        start = 1
    return start


def _list_item(kind: str, attrs: dict, content: list, notes: Notes, budget: _Budget) -> dict:
    budget.spend()
    blocks = _blocks(content, notes, budget)
    if not blocks:
        blocks = [{"type": "paragraph"}]
    elif blocks[0]["type"] != "paragraph":
        # Tiptap's items must start with a paragraph: an empty one goes before a heading, a table...
        # (the Markdown export writes an empty first paragraph as nothing, so this reads back the same).
        blocks.insert(0, {"type": "paragraph"})
    if kind == "taskItem":
        return {"type": "taskItem", "attrs": {"checked": attrs.get("checked") is True}, "content": blocks}
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
        elif kind in (SUGGESTED_INSERTION, SUGGESTED_DELETION):
            mark = _suggestion(kind, mark.get("attrs"))
            if mark is None:
                notes.add("mark")
                continue
        else:
            mark = {"type": kind}
        if mark not in out:
            out.append(mark)
    for kind in (SUGGESTED_INSERTION, SUGGESTED_DELETION):
        # One of each per text, as ProseMirror holds them (a mark type excludes itself): the innermost.
        same = [m for m in out if m["type"] == kind]
        if len(same) > 1:
            out = [m for m in out if m["type"] != kind or m is same[-1]]
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


def _suggestion(kind: str, attrs) -> dict | None:
    """A suggestion mark with its attributes as strings (capped), or None without an id."""
    attrs = attrs if isinstance(attrs, dict) else {}
    kept = {key: attrs[key][:cap] if isinstance(attrs.get(key), str) else "" for key, cap in SUGGESTION_ATTRS.items()}
    return {"type": kind, "attrs": kept} if kept["id"].strip() else None


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

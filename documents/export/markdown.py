"""Markdown: CommonMark, plus GFM's ~~strikethrough~~, tables and task lists.

The output parses back (e.g. with markdown-it-py, `commonmark` preset with
`strikethrough` and `table` enabled and mdit-py-plugins' tasklists) to the
same structure: same blocks, same text, same marks. Task items are
`- [ ] ` / `- [x] `, images `![alt](src "title")` (a relative `src` made
absolute against `base_url` when one is given), tables GFM pipe tables.
A GFM table always has a header row: the first row is written as one
(whatever its cells are), a column's alignment is its first cell's; a cell
is one line, so its blocks are joined by `<br>` (as are its hard breaks),
and a merged cell is written in its first grid cell, the others it covers
left empty. What Markdown cannot say is approximated: whitespace at the edges
of a marked run moves outside the mark (`** a**` would not parse),
whitespace at the end of a line and a paragraph's trailing hard break are
dropped, a hard break in a heading and a line break in inline code become
spaces, and empty paragraphs vanish (Markdown has none). Underline and
other marks without a Markdown syntax are rendered as plain text; links
with an unsafe target (see `links.safe_href`) keep their text only.
"""

from __future__ import annotations

import re
import unicodedata
from contextvars import ContextVar
from dataclasses import dataclass

from .base import Renderer
from .inline import steps
from .links import absolute_src, safe_href, safe_image_src
from .registry import register
from .suggestions import rejected
from .tree import text_of

_DELIMITERS = {"bold": "**", "italic": "*", "strike": "~~"}
_LISTS = ("bulletList", "orderedList", "taskList")
# Lists that follow each other must differ in marker to stay apart; a task list is a bullet list there.
_MARKER_FAMILY = {"bulletList": "bullet", "taskList": "bullet", "orderedList": "ordered"}

# Characters that may start inline markup anywhere in a line.
_INLINE_SPECIAL = re.compile(r"[\\`*_\[\]<~]")
# "&" only matters where it would start a character reference.
_ENTITY_LIKE = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
# At the start of a line these would start a block (heading, quote, list, setext underline).
_BLOCK_START = re.compile(r"^(?:(\d{1,9})([.)])|([#>+=\-]))")
_MAX_ORDERED_START = 999_999_999  # CommonMark allows at most nine digits
# The export's base URL, for the blocks deep in the walk that write an image (one render per thread/task).
_BASE_URL: ContextVar[str | None] = ContextVar("markdown_base_url", default=None)


@register
class MarkdownRenderer(Renderer):
    name = "md"
    extension = "md"
    content_type = "text/markdown; charset=utf-8"

    def render(self, tree: dict, *, title: str, base_url: str | None = None) -> str:
        token = _BASE_URL.set(base_url)
        try:
            lines = _blocks(rejected(tree).get("content", ()))
        finally:
            _BASE_URL.reset(token)
        return "\n".join(lines) + "\n" if lines else ""


# --- blocks -------------------------------------------------------------------


def _blocks(nodes, *, tight: bool = False) -> list[str]:
    """Lines of a sequence of blocks, separated by blank lines.

    In a tight list item a nested list follows its paragraph directly, as
    people write it, when CommonMark lets a list interrupt a paragraph.
    """
    lines: list[str] = []
    previous: tuple[str, str] | None = None  # (list type, marker style) of the block just written
    for node in nodes:
        style = None
        family = _MARKER_FAMILY.get(node["type"])
        if family:
            # Two lists in a row must differ in marker, or they merge into one.
            first, second = ("-", "*") if family == "bullet" else (".", ")")
            style = second if previous == (family, first) else first
        block = _block(node, style)
        if not block:
            continue
        if lines and not (tight and style is not None and _may_interrupt_paragraph(node, block)):
            lines.append("")
        lines.extend(block)
        previous = (family, style) if style else None
    return lines


def _may_interrupt_paragraph(node: dict, block: list[str]) -> bool:
    if node["type"] == "orderedList" and _ordered_start(node) != 1:
        return False
    return bool(block) and " " in block[0]  # an empty first item cannot


def _block(node: dict, style: str | None = None) -> list[str]:
    kind = node["type"]
    attrs = node.get("attrs", {})
    content = node.get("content", ())
    if kind == "paragraph":
        lines = _inline(content)
        return [] if lines == [""] else lines
    if kind == "heading":
        level = attrs.get("level")
        level = level if isinstance(level, int) and 1 <= level <= 6 else 1
        text = "".join(_inline(content, heading=True))
        return ["#" * level + (f" {text}" if text else "")]
    if kind == "blockquote":
        return [f"> {line}" if line else ">" for line in _blocks(content)] or [">"]
    if kind == "codeBlock":
        return _code_block(text_of(node), attrs.get("language"))
    if kind == "horizontalRule":
        return ["---"]
    if kind == "image":
        return [_image(attrs)]
    if kind in _LISTS:
        return _list(node, style or ("." if kind == "orderedList" else "-"))
    if kind == "image":
        return _image_block(attrs)
    if kind == "table":
        return _table(node)
    if kind in ("text", "hardBreak"):
        return _inline([node])
    return _blocks(content)  # an unknown node: its content


def _ordered_start(node: dict) -> int:
    start = node.get("attrs", {}).get("start", 1)
    return min(max(start, 0), _MAX_ORDERED_START) if isinstance(start, int) else 1


def _list(node: dict, style: str) -> list[str]:
    ordered = node["type"] == "orderedList"
    start = _ordered_start(node) if ordered else 0
    items: list[list[str]] = []
    task = node["type"] == "taskList"
    for index, item in enumerate(node.get("content", ())):
        marker = f"{start + index}{style}" if ordered else style
        body = _blocks(item.get("content", ()), tight=True)
        indent = " " * (len(marker) + 1)
        if task:
            box = "[x]" if (item.get("attrs") or {}).get("checked") is True else "[ ]"
            if not _first_paragraph_lines(item):
                # A task item's box needs text after it: a space said as a character reference (it is
                # trimmed on the way back in, as is the space after the box).
                body = ["&#32;", *([""] if body else []), *body]
            body[0] = f"{box} {body[0]}"
        if not body:
            items.append([marker])
            continue
        first = body[0]
        if not ordered and first == "---" and style == "-":
            first = "***"  # "- ---" would be one thematic break, not an item holding one
        items.append([f"{marker} {first}"] + [f"{indent}{line}" if line else "" for line in body[1:]])
    # A blank line inside any item makes the list loose: then separate every item.
    loose = any("" in item for item in items)
    lines: list[str] = []
    for item in items:
        if lines and loose:
            lines.append("")
        lines.extend(item)
    return lines


def _first_paragraph_lines(item: dict) -> list[str]:
    """The lines of an item's first paragraph (none if it has no visible text, or starts otherwise)."""
    content = item.get("content") or ()
    return _block(content[0]) if content and content[0]["type"] == "paragraph" else []


def _image_block(attrs: dict) -> list[str]:
    """A paragraph holding the image alone, which reads back as the image block."""
    image = _image(attrs)
    return [image] if image else []


def _image(attrs: dict) -> str:
    """`![alt](src "title")`; an image whose address may not be followed is its alt text."""
    src = safe_image_src(attrs.get("src"))
    alt = attrs.get("alt") if isinstance(attrs.get("alt"), str) else ""
    if src is None:
        return _escape(alt.strip(), block_start=True) if alt.strip() else ""
    src = absolute_src(src, _BASE_URL.get())
    title = attrs.get("title")
    title_part = ""
    if isinstance(title, str) and title:
        escaped = _ENTITY_LIKE.sub(r"\\&", title.replace("\\", "\\\\").replace('"', '\\"'))
        title_part = ' "' + _escape_space(escaped) + '"'
    return f"![{_escape(alt).strip()}]({_destination(src)}{title_part})"


def _table(node: dict) -> list[str]:
    """A GFM pipe table: the first row as its header, merged cells spread over the grid (see the docstring)."""
    grid = table_grid(node)
    if not grid or not grid[0]:
        return []
    width = len(grid[0])
    aligns = []
    for cell in grid[0]:
        align = ((cell or {}).get("attrs") or {}).get("align")
        aligns.append({"left": ":---", "center": ":---:", "right": "---:"}.get(align, "---"))
    lines = [_table_row(grid[0]), "| " + " | ".join(aligns) + " |"]
    lines.extend(_table_row(row) for row in grid[1:])
    return lines if width else []


def _table_row(cells: list) -> str:
    return "| " + " | ".join(_cell_text(cell) if cell else "" for cell in cells) + " |"


def _cell_text(cell: dict) -> str:
    """A cell as one line: its blocks' text joined by <br>, pipes escaped (even in code: GFM splits first)."""
    parts: list[str] = []
    for block in _cell_lines(cell.get("content") or ()):
        if block:
            parts.append(block)
    return "<br>".join(parts).replace("|", "\\|")


def _cell_lines(blocks) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block["type"]
        if kind in ("paragraph", "heading"):
            lines.extend(_inline(block.get("content", ()), cell=True))
        elif kind == "codeBlock":
            lines.extend(_code_span(line) for line in text_of(block).split("\n") if line)
        elif kind == "image":
            lines.append(_image(block.get("attrs") or {}))
        elif kind in ("text", "hardBreak"):
            lines.extend(_inline([block], cell=True))
        elif kind != "horizontalRule":
            lines.extend(_cell_lines(block.get("content") or ()))  # lists, quotes, tables: their text
    return lines


def table_grid(node: dict) -> list[list[dict | None]]:
    """The table's rows as a rectangular grid: a cell at its first position, None where a merged cell
    spans or a short row ends."""
    rows = [row.get("content") or [] for row in node.get("content") or () if row.get("type") == "tableRow"]
    grid: list[list[dict | None]] = [[] for _ in rows]
    taken: set[tuple[int, int]] = set()
    for r, cells in enumerate(rows):
        c = 0
        for cell in cells:
            while (r, c) in taken:
                c += 1
            attrs = cell.get("attrs") or {}
            colspan = attrs.get("colspan") if isinstance(attrs.get("colspan"), int) and attrs["colspan"] > 0 else 1
            rowspan = attrs.get("rowspan") if isinstance(attrs.get("rowspan"), int) and attrs["rowspan"] > 0 else 1
            for dr in range(min(rowspan, len(rows) - r)):
                for dc in range(colspan):
                    taken.add((r + dr, c + dc))
            row = grid[r]
            row.extend([None] * (c + 1 - len(row)))
            row[c] = cell
            c += colspan
    width = max((c + 1 for _r, c in taken), default=0)
    for row in grid:
        row.extend([None] * (width - len(row)))
    return grid


def _code_block(text: str, language) -> list[str]:
    info = re.sub(r"\s+", " ", str(language or "")).strip()
    fence_char = "~" if "`" in info else "`"  # a backtick fence's info string cannot hold one
    longest = max((len(run) for run in re.findall(f"{re.escape(fence_char)}+", text)), default=0)
    fence = fence_char * max(3, longest + 1)
    return [f"{fence}{info}", *(text.split("\n") if text else []), fence]


# --- inline content -------------------------------------------------------------


def _keep_mark(mark: dict) -> dict | None:
    if mark["type"] == "link":
        href = safe_href(mark.get("attrs", {}).get("href"))
        return {"type": "link", "attrs": {"href": href}} if href else None
    return mark if mark["type"] in _DELIMITERS or mark["type"] == "code" else None


def _inline(content, *, heading: bool = False, cell: bool = False) -> list[str]:
    """The lines of a paragraph (hard breaks end all but the last with a backslash; in a table cell
    a hard break is a <br> and all is one line)."""
    writer = _InlineWriter(heading, cell)
    for step in steps(content, _keep_mark):
        for mark in step.close:
            writer.close(mark)
        writer.deferred.extend(step.open)
        node = step.node
        if node is None:
            continue
        if node["type"] == "text":
            writer.text(node.get("text", ""))
        elif node["type"] == "hardBreak":
            writer.hard_break()
        else:
            writer.text(text_of(node))  # an unknown inline node: its text
    return writer.finish()


class _InlineWriter:
    """Writes marked text, keeping delimiters where CommonMark will see them.

    Emphasis only opens before and closes after non-whitespace, so whitespace
    is held back (`pending`) and marks are written lazily (`deferred`) until
    the next visible character: "a" + bold(" b ") comes out as "a **b** ".
    Whitespace at the start of a line would be stripped by a parser, so
    there it is written as character references; at the end of a line it
    is invisible and dropped. Delimiters between punctuation and a letter
    are made recognisable when each line is joined (`_join`).
    """

    def __init__(self, heading: bool, cell: bool = False):
        self.heading = heading
        self.cell = cell
        self.lines: list[list[_Piece]] = [[]]
        self.pending = ""
        self.deferred: list[dict] = []
        self.code: list[str] | None = None  # the text of the code span being written

    def text(self, text: str) -> None:
        if self.code is not None or any(mark["type"] == "code" for mark in self.deferred):
            self._flush_pending()
            self._open_deferred()
            self.code.append(text)
            return
        core = text.strip()
        if not core:
            self.pending += text
            return
        lead = text[: len(text) - len(text.lstrip())]
        self.pending += lead
        self._flush_pending()
        self._open_deferred()
        self._write(_TEXT, _escape(core, block_start=self._at_line_start(), heading=self.heading))
        self.pending = text[len(lead) + len(core) :]

    def close(self, mark: dict) -> None:
        if mark in self.deferred:
            self.deferred.remove(mark)  # never written: nothing to close
        elif mark["type"] == "code":
            self._write(_OTHER, _code_span("".join(self.code)))
            self.code = None
        elif mark["type"] == "link":
            self._write(_OTHER, f"]({_destination(mark['attrs']['href'])})")
        else:
            self._write(_CLOSE, _DELIMITERS[mark["type"]], mark["type"])

    def hard_break(self) -> None:
        if self.heading:
            self.pending += " "
            return
        self.pending = ""  # invisible before a line break, and parsers disagree on keeping it
        if self.cell:
            self._write(_OTHER, "<br>")
            return
        self._write(_OTHER, "\\")
        self.lines.append([])

    def finish(self) -> list[str]:
        self.pending = ""  # trailing whitespace: invisible, and stripped by parsers
        while len(self.lines) > 1 and not self.lines[-1]:
            # A trailing hard break: Markdown has no way to say it.
            self.lines.pop()
            self.lines[-1].pop()
        return [_join(pieces) for pieces in self.lines]

    def _open_deferred(self) -> None:
        for mark in self.deferred:
            if mark["type"] == "code":
                self.code = []
            elif mark["type"] == "link":
                self._write(_OTHER, "[")
            else:
                self._write(_OPEN, _DELIMITERS[mark["type"]], mark["type"])
        self.deferred = []

    def _flush_pending(self) -> None:
        if self.pending:
            if self._at_line_start():  # a parser would strip it: say it with character references
                self._write(_OTHER, "".join(f"&#{ord(c)};" for c in self.pending))
            else:
                self._write(_OTHER, _escape_space(self.pending))
            self.pending = ""

    def _at_line_start(self) -> bool:
        return not self.lines[-1]

    def _write(self, kind: str, value: str, mark: str = "") -> None:
        self.lines[-1].append(_Piece(kind, value, mark))


# Kinds of the pieces a line is made of.
_TEXT, _OPEN, _CLOSE, _OTHER = "text", "open", "close", "other"


@dataclass(slots=True)
class _Piece:
    # One of _TEXT (escaped document text), _OPEN/_CLOSE (an emphasis delimiter), _OTHER.
    kind: str
    value: str
    # The mark of a delimiter.
    mark: str = ""


def _join(pieces: list[_Piece]) -> str:
    """A line's text, with every emphasis delimiter made to count.

    - Italic is "_" instead of "*" next to bold's "**": "***" would be one
      delimiter run, and CommonMark might pair it differently.
    - "!" just before a link would make it an image.
    - A run of "*" or "~" closes after punctuation only if followed by
      whitespace or punctuation (and opens before punctuation only if
      preceded by either): "**a.**b" is no emphasis. "_" must not touch a
      letter on its outer side at all. Such a letter is written as a
      character reference instead ("**a.**&#98;"): its "&" and ";" are
      punctuation. Repeated until nothing changes.
    """
    italics = [i for i, piece in enumerate(pieces) if piece.mark == "italic"]
    for opener, closer in zip(italics[::2], italics[1::2]):
        if any(_touches_star(pieces, i) for i in (opener, closer)):
            pieces[opener].value = pieces[closer].value = "_"
    for before, after in zip(pieces, pieces[1:]):
        if before.kind == _TEXT and before.value.endswith("!") and after.value.startswith("["):
            before.value = before.value[:-1] + "\\!"
    changed = True
    while changed:
        changed = False
        for i, piece in enumerate(pieces):
            if piece.kind not in (_OPEN, _CLOSE):
                continue
            before = pieces[i - 1] if i > 0 else None
            after = pieces[i + 1] if i + 1 < len(pieces) else None
            prev = before.value[-1] if before and before.value else " "
            nxt = after.value[0] if after and after.value else " "
            strict = piece.value[0] == "_"
            if piece.kind == _CLOSE and _is_word(nxt) and after.kind == _TEXT and (strict or _is_punct(prev)):
                after.value = f"&#{ord(nxt)};" + after.value[1:]
                changed = True
            elif piece.kind == _OPEN and _is_word(prev) and before.kind == _TEXT and (strict or _is_punct(nxt)):
                before.value = before.value[:-1] + f"&#{ord(prev)};"
                changed = True
    return "".join(piece.value for piece in pieces)


def _touches_star(pieces: list[_Piece], i: int) -> bool:
    return any(
        0 <= j < len(pieces) and pieces[j].kind in (_OPEN, _CLOSE) and pieces[j].value.startswith("*")
        for j in (i - 1, i + 1)
    )


def _is_punct(char: str) -> bool:
    # CommonMark's punctuation is Unicode's P and S categories (ASCII symbols included).
    return unicodedata.category(char)[0] in "PS"


def _is_word(char: str) -> bool:
    return not char.isspace() and not _is_punct(char)


def _escape(text: str, *, block_start: bool = False, heading: bool = False) -> str:
    text = _INLINE_SPECIAL.sub(r"\\\g<0>", text)
    text = _ENTITY_LIKE.sub(r"\\&", text)
    if heading:
        text = text.replace("#", "\\#")  # a trailing "#" would be read as a closing sequence
    elif block_start:
        text = _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text, count=1)
    return _escape_space(text)


def _escape_space(text: str) -> str:
    # A line break inside text would be a soft break (or end the block).
    return text.replace("\n", "&#10;").replace("\r", "&#13;")


def _code_span(text: str) -> str:
    text = text.replace("\n", " ").replace("\r", " ")
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    ticks = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ") and text.strip()):
        text = f" {text} "  # a parser strips exactly one space from each side
    return f"{ticks}{text}{ticks}"


def _destination(href: str) -> str:
    out = []
    for char in href:
        if char in "()<>\\":
            out.append("\\" + char)
        elif char == " " or ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"%{ord(char):02X}")
        else:
            out.append(char)
    # A character reference would be decoded in a destination too.
    return _ENTITY_LIKE.sub(r"\\&", "".join(out))

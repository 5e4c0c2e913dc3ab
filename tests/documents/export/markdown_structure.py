"""The structure of a Markdown text as markdown-it-py parses it, and what a document should give.

Both sides come out in one shape so that a test can compare "the document"
with "its Markdown export, parsed again":

    ("paragraph", inline) ("heading", level, inline) ("codeBlock", language, text)
    ("horizontalRule",) ("blockquote", blocks) ("bulletList", items)
    ("orderedList", start, items)       items: tuples of blocks
    ("taskList", ((checked, blocks), ...))
    ("image", src, alt, title)          a paragraph holding one image and nothing else
    ("table", rows)                     rows: tuples of (is header, align, inline) per grid cell

inline is a tuple of (character, marks) with marks a frozenset such as
{("bold",), ("link", href)}, and ("<br>", None) for a hard break. Markdown
cannot hold marks on whitespace at the edge of a marked run, so whitespace
compares with marks None: it must be there, whatever its marks.
"""

from markdown_it import MarkdownIt
from mdit_py_plugins.tasklists import tasklists_plugin

from documents.export.links import absolute_src, safe_href, safe_image_src
from documents.export.markdown import table_grid
from documents.importing.markdown import alt_text

PARSER = MarkdownIt("commonmark").enable(["strikethrough", "table"]).use(tasklists_plugin)

BREAK = ("<br>", None)
_MD_MARKS = {"bold", "italic", "strike", "code"}


def parse(markdown: str) -> tuple:
    tokens = PARSER.parse(markdown)
    blocks, _ = _parse_blocks(tokens, 0, None)
    return tuple(blocks)


def expected(tree: dict, base_url: str | None = None) -> tuple:
    """What the Markdown export of a ProseMirror JSON tree should parse back to."""
    global _BASE
    _BASE = base_url
    return tuple(_expected_blocks(tree.get("content", ())))


_BASE = None


# --- from markdown-it tokens ---------------------------------------------------------


def _parse_blocks(tokens, i, until):
    blocks = []
    while i < len(tokens):
        token = tokens[i]
        if until is not None and token.type == until:
            return blocks, i + 1
        kind = token.type
        if kind == "paragraph_open":
            children = [c for c in tokens[i + 1].children or () if not (c.type == "text" and not c.content)]
            if len(children) == 1 and children[0].type == "image":
                image = children[0]
                blocks.append(("image", image.attrGet("src"), alt_text(image), image.attrGet("title") or None))
            else:
                blocks.append(("paragraph", _parse_inline(tokens[i + 1])))
            i += 3
        elif kind == "table_open":
            rows, row = [], None
            i += 1
            while tokens[i].type != "table_close":
                token = tokens[i]
                if token.type == "tr_open":
                    row = []
                elif token.type == "tr_close":
                    rows.append(tuple(row))
                elif token.type in ("th_open", "td_open"):
                    style = token.attrGet("style") or ""
                    align = style.split(":")[1] if ":" in style else None
                    row.append((token.type == "th_open", align, _parse_inline(tokens[i + 1])))
                i += 1
            i += 1
            blocks.append(("table", tuple(rows)))
        elif kind == "heading_open":
            blocks.append(("heading", int(token.tag[1]), _parse_inline(tokens[i + 1])))
            i += 3
        elif kind == "fence":
            text = token.content[:-1] if token.content.endswith("\n") else token.content
            blocks.append(("codeBlock", token.info.strip(), text))
            i += 1
        elif kind == "hr":
            blocks.append(("horizontalRule",))
            i += 1
        elif kind == "blockquote_open":
            inner, i = _parse_blocks(tokens, i + 1, "blockquote_close")
            blocks.append(("blockquote", tuple(inner)))
        elif kind in ("bullet_list_open", "ordered_list_open"):
            close = kind.replace("_open", "_close")
            items = []
            i += 1
            tasks = []
            while tokens[i].type != close:
                assert tokens[i].type == "list_item_open", tokens[i]
                task = "task-list-item" in (tokens[i].attrGet("class") or "")
                if task:
                    inline = tokens[i + 2]
                    checkbox = inline.children.pop(0)
                    tasks.append('checked="checked"' in checkbox.content)
                    if inline.children and inline.children[0].type == "text":
                        inline.children[0].content = inline.children[0].content.lstrip(" \t")
                inner, i = _parse_blocks(tokens, i + 1, "list_item_close")
                if task and inner and inner[0] == ("paragraph", ()):
                    inner = inner[1:]
                items.append(tuple(inner))
            i += 1
            if tasks:
                assert kind == "bullet_list_open" and len(tasks) == len(items), "only whole task lists are written"
                blocks.append(("taskList", tuple(zip(tasks, items))))
            elif kind == "bullet_list_open":
                blocks.append(("bulletList", tuple(items)))
            else:
                start = token.attrGet("start")
                blocks.append(("orderedList", 1 if start is None else int(start), tuple(items)))
        else:
            blocks.append(("unexpected", kind, token.content))
            i += 1
    return blocks, i


def _parse_inline(token) -> tuple:
    out = []
    marks: list[tuple] = []
    for child in token.children or ():
        kind = child.type
        if kind == "text":
            out.extend((c, frozenset(marks)) for c in child.content)
        elif kind == "code_inline":
            out.extend((c, frozenset(marks + [("code",)])) for c in child.content)
        elif kind == "hardbreak" or (kind == "html_inline" and child.content == "<br>"):
            out.append(BREAK)
        elif kind == "text" and not child.content:
            continue
        elif kind == "image":
            out.append((f"<image:{child.attrGet('src')}:{child.content}>", None))
        elif kind.endswith("_open"):
            name = {"strong_open": "bold", "em_open": "italic", "s_open": "strike"}.get(kind)
            marks.append(("link", child.attrGet("href")) if kind == "link_open" else (name,))
        elif kind.endswith("_close"):
            marks.pop()
        else:
            out.append((f"<{kind}:{child.content}>", None))  # softbreak, html_inline...: never expected
    return _blank_whitespace_marks(out)


def _blank_whitespace_marks(chars) -> tuple:
    return tuple((c, None) if m is not None and c.isspace() else (c, m) for c, m in chars)


# --- from the document ------------------------------------------------------------------


def _expected_blocks(nodes) -> list:
    blocks = []
    for node in nodes:
        block = _expected_block(node)
        if block is not None:
            blocks.append(block)
    return blocks


def _expected_block(node):
    kind = node["type"]
    attrs = node.get("attrs", {})
    content = node.get("content", ())
    if kind == "paragraph":
        inline = _expected_inline(content, heading=False)
        return ("paragraph", inline) if inline else None
    if kind == "image":
        src = safe_image_src(attrs.get("src"))
        if src is None:
            raise AssertionError("generate safe images only")
        return ("image", PARSER.normalizeLink(absolute_src(src, _BASE)), attrs.get("alt") or "",
                attrs.get("title") or None)
    if kind == "taskList":
        return ("taskList", tuple(((item.get("attrs") or {}).get("checked") is True,
                                   tuple(_expected_item_blocks(item.get("content", ())))) for item in content))
    if kind == "table":
        grid = table_grid(node)
        aligns = [((cell or {}).get("attrs") or {}).get("align") for cell in grid[0]]
        return ("table", tuple(
            tuple((r == 0, aligns[c], _expected_cell(cell)) for c, cell in enumerate(row))
            for r, row in enumerate(grid)))
    if kind == "heading":
        return ("heading", attrs.get("level", 1), _expected_inline(content, heading=True))
    if kind == "codeBlock":
        language = " ".join(str(attrs.get("language") or "").split())
        return ("codeBlock", language, "".join(c.get("text", "") for c in content))
    if kind == "horizontalRule":
        return ("horizontalRule",)
    if kind == "blockquote":
        return ("blockquote", tuple(_expected_blocks(content)))
    items = tuple(tuple(_expected_blocks(item.get("content", ()))) for item in content)
    if kind == "bulletList":
        return ("bulletList", items)
    if kind == "orderedList":
        return ("orderedList", attrs.get("start", 1), items)
    raise AssertionError(f"no expectation for {kind}")


def _expected_item_blocks(content):
    """A task item's blocks. Whitespace at the start of its text is not kept (the importer trims what
    follows the box), unless it is code."""
    blocks = _expected_blocks(content)
    first = content[0] if content else None
    if blocks and blocks[0][0] == "paragraph" and first is not None and first["type"] == "paragraph":
        inline_nodes = first.get("content") or []
        if inline_nodes and not any(m["type"] == "code" for m in inline_nodes[0].get("marks", ())):
            inline = list(blocks[0][1])
            while inline and inline[0] != BREAK and inline[0][0] in " \t":
                inline.pop(0)
            blocks[0] = ("paragraph", tuple(inline))
            if not inline:
                blocks.pop(0)
    return blocks


def _expected_cell(cell) -> tuple:
    """A cell is one line: its paragraphs joined by hard breaks (generated cells hold paragraphs)."""
    if cell is None:
        return ()
    parts = []
    for block in cell.get("content", ()):
        assert block["type"] == "paragraph", "generate paragraphs in cells only"
        line = list(_cell_inline(block.get("content", ())))
        if line:
            parts.append(line)
    out = []
    for index, part in enumerate(parts):
        if index:
            out.append(BREAK)
        out.extend(part)
    return _blank_whitespace_marks(out)


def _cell_inline(content):
    """A paragraph in a cell: hard breaks are <br>, whitespace before one and at the end is dropped."""
    out: list = []

    def drop_trailing_space():
        while out and out[-1] != BREAK and out[-1][0].isspace() and ("code",) not in out[-1][1]:
            out.pop()

    for node in content:
        if node["type"] == "hardBreak":
            drop_trailing_space()
            out.append(BREAK)
            continue
        marks = frozenset(_expected_mark(m) for m in node.get("marks", ()) if _expected_mark(m) is not None)
        text = node["text"]
        if ("code",) in marks:
            text = text.replace("\n", " ").replace("\r", " ")
        out.extend((c, marks) for c in text)
    drop_trailing_space()
    return out


def _expected_inline(content, *, heading: bool) -> tuple:
    lines: list[list] = [[]]
    for node in content:
        if node["type"] == "hardBreak":
            if heading:
                lines[-1].append((" ", frozenset()))
            else:
                lines.append([])
            continue
        marks = frozenset(_expected_mark(m) for m in node.get("marks", ()) if _expected_mark(m) is not None)
        text = node["text"]
        if ("code",) in marks:
            text = text.replace("\n", " ").replace("\r", " ")  # a code span is one line
        lines[-1].extend((c, marks) for c in text)
    # Whitespace at the end of a line is dropped (but not from code), and so is a trailing hard break.
    for line in lines:
        while line and line[-1][0].isspace() and ("code",) not in line[-1][1]:
            line.pop()
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    out = []
    for index, line in enumerate(lines):
        if index:
            out.append(BREAK)
        out.extend(line)
    return _blank_whitespace_marks(out)


def _expected_mark(mark: dict):
    if mark["type"] == "link":
        href = safe_href(mark.get("attrs", {}).get("href"))
        return ("link", PARSER.normalizeLink(href)) if href else None
    return (mark["type"],) if mark["type"] in _MD_MARKS else None

"""DOCX: a Word document built with python-docx from the ProseMirror JSON.

Blocks map to Word's built-in styles, so that Word's navigation pane, its
table of contents and its style changes work on the result: headings are
"Heading 1"–"Heading 6", lists
"List Bullet"/"List Number" (and their "2"/"3" variants for nesting), quotes
"Quote", code blocks a monospace paragraph per block with its line breaks.
Marks become run formatting (bold, italic, underline, strike, code as a
monospace font, sub/superscript, highlight); links are real hyperlinks,
kept only with a safe target (`links.safe_href`), as in the other formats.

Tables are real Word tables ("Table Grid"), merged cells merged, a header
row marked as Word's header row (repeated on each page; mammoth reads it
back as <th>); a cell's blocks are written into it. Task items are list items whose text starts with ☐ or
☑. Images: a `data:` image (PNG, JPEG, GIF) is embedded, any other is its
alt text linked to its address (made absolute against `base_url`): the
server never fetches a URL a document names.

Approximations: an ordered list's numbering continues across lists (Word
numbering instances are not created per list) and its `start` is not kept;
a horizontal rule is a paragraph with a bottom border. Characters XML
cannot hold (control characters a client may type) are dropped.
"""

from __future__ import annotations

import base64
import binascii
import io
import re

import docx
import docx.image.exceptions
from docx.enum.text import WD_COLOR_INDEX
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement
from docx.shared import Inches, RGBColor
from docx.text.run import Run

from .base import Renderer
from .links import absolute_src, safe_href, safe_image_src
from .registry import register
from .suggestions import rejected

_LISTS = ("bulletList", "orderedList", "taskList")
_ITEMS = ("listItem", "taskItem")
# Word's built-in list styles go three levels deep.
_MAX_LIST_STYLE_LEVEL = 3
_MONOSPACE = "Courier New"
# Word's own colour for links (python-docx's template has no "Hyperlink" style).
_LINK_COLOUR = RGBColor(0x05, 0x63, 0xC1)
# XML 1.0 allows tab, newline and carriage return among the control characters, nothing else.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_BOXES = {True: "☑ ", False: "☐ "}
# Raster images python-docx can embed, from a data: URI.
_EMBEDDABLE = re.compile(r"^data:image/(png|jpeg|gif);base64,(.*)$", re.DOTALL)
_MAX_IMAGE_WIDTH = Inches(6)


@register
class DocxRenderer(Renderer):
    name = "docx"
    extension = "docx"
    content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

    def render(self, tree: dict, *, title: str, base_url: str | None = None) -> bytes:
        document = docx.Document()
        document.core_properties.title = _clean(title)
        _Writer(document, base_url).blocks(rejected(tree).get("content", ()))
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


class _Writer:
    def __init__(self, document, base_url: str | None = None):
        self.document = document
        self.base_url = base_url
        # Where paragraphs go: the document, or the table cell being written.
        self.container = document
        # A fresh cell comes with an empty paragraph: the cell's first paragraph uses it.
        self._cell_paragraph = None
        self._style_ids: dict[str, str] = {}

    def paragraph(self, style: str | None):
        """A new paragraph in the named built-in style.

        python-docx looks a style name up among all styles on every use (most
        of an export's time): each name is looked up once and set by its id.
        """
        if self._cell_paragraph is not None:
            paragraph, self._cell_paragraph = self._cell_paragraph, None
        else:
            paragraph = self.container.add_paragraph()
        if style:
            style_id = self._style_ids.get(style)
            if style_id is None:
                style_id = self._style_ids[style] = self.document.styles[style].style_id
            paragraph._p.get_or_add_pPr().style = style_id
        return paragraph

    def blocks(self, nodes, *, list_style: str | None = None, depth: int = 0, quote: bool = False) -> None:
        for node in nodes:
            self.block(node, list_style=list_style, depth=depth, quote=quote)

    def block(self, node: dict, *, list_style: str | None, depth: int, quote: bool) -> None:
        kind = node["type"]
        attrs = node.get("attrs") or {}
        content = node.get("content", ())
        if kind == "heading":
            level = attrs.get("level")
            level = level if isinstance(level, int) and 1 <= level <= 6 else 1
            self.inline(self.paragraph(f"Heading {level}"), content)
        elif kind == "paragraph":
            self.inline(self.paragraph(self._style(list_style, depth, quote)), content)
        elif kind == "blockquote":
            self.blocks(content, list_style=list_style, depth=depth, quote=True)
        elif kind == "codeBlock":
            paragraph = self.paragraph(self._style(list_style, depth, quote))
            run = paragraph.add_run(_clean("".join(_texts(node))))
            run.font.name = _MONOSPACE
        elif kind == "horizontalRule":
            _bottom_border(self.paragraph(None))
        elif kind in _LISTS:
            style = "List Number" if kind == "orderedList" else "List Bullet"
            for item in content:
                self.list_item(item, style, depth + 1)
        elif kind == "table":
            self.table(node)
        elif kind == "image":
            self.image(attrs, self._style(list_style, depth, quote))
        elif kind in ("text", "hardBreak"):
            self.inline(self.paragraph(self._style(list_style, depth, quote)), [node])
        else:  # an unknown node: its content
            self.blocks(content, list_style=list_style, depth=depth, quote=quote)

    def list_item(self, item: dict, style: str, depth: int) -> None:
        """The item's first paragraph carries the bullet; what follows it is indented under it."""
        children = list(item.get("content", ())) if item["type"] in _ITEMS else [item]
        if not children or children[0]["type"] != "paragraph":
            children.insert(0, {"type": "paragraph"})
        if item["type"] == "taskItem":
            box = _BOXES[(item.get("attrs") or {}).get("checked") is True]
            children[0] = {**children[0], "content": [{"type": "text", "text": box}, *children[0].get("content", ())]}
        self.inline(self.paragraph(self._style(style, depth, False)), children[0].get("content", ()))
        self.blocks(children[1:], list_style=None, depth=depth, quote=False)

    def table(self, node: dict) -> None:
        from .markdown import table_grid  # the grid of merged cells, as every format lays it out

        grid = table_grid(node)
        if not grid or not grid[0]:
            return
        table = self.container.add_table(rows=len(grid), cols=len(grid[0]))
        table.style = self.document.styles["Table Grid"]
        merged: set[tuple[int, int]] = set()
        for r, row in enumerate(grid):
            for c, cell in enumerate(row):
                if cell is None:
                    continue
                attrs = cell.get("attrs") or {}
                colspan = attrs.get("colspan") if isinstance(attrs.get("colspan"), int) else 1
                rowspan = attrs.get("rowspan") if isinstance(attrs.get("rowspan"), int) else 1
                last_r, last_c = min(r + max(rowspan, 1), len(grid)) - 1, min(c + max(colspan, 1), len(row)) - 1
                target = table.cell(r, c)
                if (last_r, last_c) != (r, c) and not any((rr, cc) in merged for rr in range(r, last_r + 1)
                                                          for cc in range(c, last_c + 1)):
                    target = target.merge(table.cell(last_r, last_c))
                    merged.update((rr, cc) for rr in range(r, last_r + 1) for cc in range(c, last_c + 1))
                self.cell(target, cell)
        if all(cell is not None and cell["type"] == "tableHeader" for cell in grid[0]):
            # Word repeats a header row on every page the table runs onto.
            header = table.rows[0]._tr.get_or_add_trPr()
            header.append(OxmlElement("w:tblHeader"))

    def cell(self, target, cell: dict) -> None:
        saved = self.container, self._cell_paragraph
        self.container, self._cell_paragraph = target, target.paragraphs[0]
        try:
            self.blocks(cell.get("content", ()))
        finally:
            self.container, self._cell_paragraph = saved

    def image(self, attrs: dict, style: str | None) -> None:
        src = safe_image_src(attrs.get("src"))
        alt = _clean(attrs.get("alt")) if isinstance(attrs.get("alt"), str) else ""
        embeddable = _EMBEDDABLE.match(src) if src else None
        if embeddable:
            paragraph = self.paragraph(style)
            try:
                picture = io.BytesIO(base64.b64decode(embeddable.group(2), validate=True))
                run = paragraph.add_run()
                shape = run.add_picture(picture)
                if shape.width > _MAX_IMAGE_WIDTH:
                    shape.height = int(shape.height * _MAX_IMAGE_WIDTH / shape.width)
                    shape.width = _MAX_IMAGE_WIDTH
                return
            except (binascii.Error, ValueError, docx.image.exceptions.UnrecognizedImageError):
                # Not an image python-docx can read after all: its alt text, as for any image it cannot show.
                if alt:
                    paragraph.add_run(alt)
                return
        if src is None or src.startswith("data:"):
            if alt:
                self.paragraph(style).add_run(alt)
            return
        href = absolute_src(src, self.base_url)
        paragraph = self.paragraph(style)
        run = _hyperlink_run(paragraph, href)
        run.text = alt or href
        _format(run, {}, linked=True)

    def _style(self, list_style: str | None, depth: int, quote: bool) -> str | None:
        if list_style:
            level = min(depth, _MAX_LIST_STYLE_LEVEL)
            return list_style if level <= 1 else f"{list_style} {level}"
        if quote:
            return "Quote"
        if depth:
            return f"List Continue {min(depth, _MAX_LIST_STYLE_LEVEL)}" if depth > 1 else "List Continue"
        return None

    def inline(self, paragraph, content) -> None:
        for node in content:
            kind = node["type"]
            if kind == "hardBreak":
                paragraph.add_run().add_break()
                continue
            if kind != "text":
                self.inline(paragraph, node.get("content", ()))  # an unknown inline node: its text
                continue
            text = _clean(node.get("text", ""))
            if not text:
                continue
            marks = {mark["type"]: mark.get("attrs") or {} for mark in node.get("marks", ())}
            href = safe_href(marks.get("link", {}).get("href")) if "link" in marks else None
            run = _hyperlink_run(paragraph, href) if href else paragraph.add_run()
            run.text = text
            _format(run, marks, linked=bool(href))


def _texts(node: dict):
    if node["type"] == "text":
        yield node.get("text", "")
    elif node["type"] == "hardBreak":
        yield "\n"
    for child in node.get("content", ()):
        yield from _texts(child)


def _format(run, marks: dict, *, linked: bool) -> None:
    font = run.font
    font.bold = "bold" in marks or None
    font.italic = "italic" in marks or None
    font.underline = "underline" in marks or linked or None
    font.strike = "strike" in marks or None
    font.subscript = "subscript" in marks or None
    font.superscript = "superscript" in marks or None
    if "code" in marks:
        font.name = _MONOSPACE
    if "highlight" in marks:
        font.highlight_color = WD_COLOR_INDEX.YELLOW
    if linked:
        font.color.rgb = _LINK_COLOUR


def _hyperlink_run(paragraph, href: str):
    """A run inside a <w:hyperlink> to `href` (python-docx has no API for making links)."""
    relationship = paragraph.part.relate_to(href, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), relationship)
    paragraph._p.append(link)
    r = OxmlElement("w:r")
    link.append(r)
    return Run(r, paragraph)


def _bottom_border(paragraph) -> None:
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "auto")):
        bottom.set(qn(f"w:{name}"), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)

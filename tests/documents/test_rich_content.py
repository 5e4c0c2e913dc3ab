"""Rich content (issue 17): every node type the editor has, through each export and back through its import.

A document holding all of them (as the editor writes it: cells say colspan and
rowspan, task items say checked) is exported and the export imported again:
the same document comes back wherever the format can hold it (json, md, html),
and what Word cannot (code blocks, rules, linked images) degrades as the DOCX
docstring says. Hostile input stays inert; a table too large to edit is a 413.
"""

import io
import json

import docx
import pytest

from documents import export, importing
from documents.export.tree import document_tree
from documents.importing import ImportRefused
from documents.importing.schema import MAX_NODES, MAX_TABLE_CELLS, Notes, normalize
from tests.documents.export.rich_sample import DOC, PNG_SRC, RICH, cell, table, task
from tests.documents.tiptap import build, bullet_list, link, node, ordered_list, paragraph, text
from tests.support.exports import docx_paragraphs

def through_yjs(content: dict) -> dict:
    return document_tree(importing.prosemirror_to_doc(content))


def test_the_rich_document_is_already_normalized_and_survives_yjs():
    assert normalize(DOC, Notes()) == DOC
    assert through_yjs(DOC) == DOC
    # As the editor stores it (pycrdt, as y-prosemirror writes): the json export is the same tree.
    assert json.loads(export.get("json").render_state(build(RICH), title="t")) == DOC


@pytest.mark.parametrize("name", ["json", "md", "html"])
def test_every_node_type_round_trips_through_each_text_format(name):
    exported = export.get(name).render(DOC, title="Plan", base_url="https://docs.example/")
    imported = importing.parse(exported, name)
    assert imported.content == DOC, exported
    assert imported.notes == []


def test_word_keeps_headings_lists_tasks_tables_and_marks():
    data = export.get("docx").render(DOC, title="Plan", base_url="https://docs.example/")
    imported = importing.parse(data, "docx")
    assert imported.notes == []
    # What Word (as python-docx writes it and mammoth reads it) cannot hold: code marks and blocks, quotes and
    # rules, list nesting and starts; an image at an address is a link to it (the server fetches nothing).
    assert imported.content["content"] == [
        *RICH[:6],
        paragraph("Some ", text("bold", "bold"), ", code and ", text("a link", link("https://example.com/a?b=1")),
                  ".", node("hardBreak"), "After a break."),
        bullet_list([paragraph("one")], [paragraph("two")]),
        ordered_list([paragraph("nested")], [paragraph("three")]),
        node("taskList", task(False, paragraph("Write it")), task(True, paragraph("Ship it")),
             task(False, paragraph("Tell people"))),
        RICH[10],
        paragraph(text("Logo", link("https://example.com/logo.png"))),
        paragraph("print(1)"),
        paragraph("quoted"),
    ]


def test_the_docx_has_real_tables_boxes_monospace_code_and_embedded_images():
    tree = {"type": "doc", "content": [
        *RICH,
        table([cell("tableCell", paragraph("wide")) | {"attrs": {"colspan": 2, "rowspan": 1}}],
              [cell("tableCell", paragraph("a")), cell("tableCell", paragraph("b"))]),
        {"type": "image", "attrs": {"src": PNG_SRC, "alt": "pixel"}},
        {"type": "image", "attrs": {"src": "/api/documents/x/images/1", "alt": "Relative"}},
    ]}
    data = export.get("docx").render(tree, title="Plan", base_url="https://docs.example/")
    document = docx.Document(io.BytesIO(data))
    paragraphs = docx_paragraphs(data)
    assert [p for p in paragraphs if p[0].startswith("Heading")] == [
        (f"Heading {n}", title) for n, title in enumerate(["Plan", "Two", "Three", "Four", "Five", "Six"], 1)]
    assert ("List Bullet", "☐ Write it") in paragraphs and ("List Bullet", "☑ Ship it") in paragraphs
    assert ("List Bullet 2", "☐ Tell people") in paragraphs
    first, merged = document.tables
    assert [[c.text for c in row.cells] for row in first.rows] == [["Name", "Role | team"], ["Ann", "dev"]]
    assert first.rows[0]._tr.trPr.find(docx.oxml.ns.qn("w:tblHeader")) is not None, "header repeats"
    assert [[c.text for c in row.cells] for row in merged.rows] == [["wide", "wide"], ["a", "b"]]
    code = next(p for p in document.paragraphs if p.text == "print(1)")
    assert {run.font.name for run in code.runs} == {"Courier New"}
    assert len(document.inline_shapes) == 1, "the data: image is embedded"
    links = [(h.text, h.address) for p in document.paragraphs for h in p.hyperlinks]
    assert ("Logo", "https://example.com/logo.png") in links
    assert ("Relative", "https://docs.example/api/documents/x/images/1") in links


def test_the_pdf_prints_tables_tasks_and_inline_images():
    from tests.support.exports import pdf_text

    tree = {"type": "doc", "content": [*RICH, {"type": "image", "attrs": {"src": PNG_SRC, "alt": "pixel"}}]}
    data = export.get("pdf").render(tree, title="Plan")
    words = " ".join(pdf_text(data).split())
    for expected in ("Four", "Six", "Write it", "Ship it", "Name", "Role | team", "Ann", "dev", "print(1)"):
        assert expected in words, (expected, words)


def test_text_and_markdown_say_each_node_as_a_reader_expects():
    md = export.get("md").render(DOC, title="Plan", base_url="https://docs.example/")
    assert "#### Four\n\n##### Five\n\n###### Six\n" in md
    assert "- [ ] Write it\n- [x] Ship it\n  - [ ] Tell people\n" in md
    assert "| Name | Role \\| team |\n| --- | --- |\n| Ann | **dev** |\n" in md
    assert '![Logo](https://example.com/logo.png "Our logo")\n' in md
    assert "```python\nprint(1)\n```\n" in md and "\n---\n" in md
    relative = {"type": "doc", "content": [{"type": "image", "attrs": {"src": "/api/documents/x/images/1"}}]}
    assert export.get("md").render(relative, title="", base_url="https://docs.example/") == (
        "![](https://docs.example/api/documents/x/images/1)\n")
    assert export.get("md").render(relative, title="") == "![](/api/documents/x/images/1)\n"

    txt = export.get("txt").render(DOC, title="Plan")
    assert "- [ ] Write it\n- [x] Ship it\n  - [ ] Tell people\n" in txt
    assert "Name | Role | team\n-----+------------\nAnn  | dev\n" in txt
    assert "Logo (https://example.com/logo.png)\n" in txt


def test_html_says_each_node_as_tiptap_writes_it():
    page = export.get("html").render(DOC, title="Plan")
    for markup in (
        "<h4>Four</h4>", "<h5>Five</h5>", "<h6>Six</h6>",
        '<ul data-type="taskList"><li data-type="taskItem" data-checked="false"><label>'
        '<input type="checkbox" disabled></label><div><p>Write it</p></div></li>',
        '<input type="checkbox" disabled checked>',
        "<table><tbody><tr><th><p>Name</p></th><th><p>Role | team</p></th></tr>"
        "<tr><td><p>Ann</p></td><td><p><strong>dev</strong></p></td></tr></tbody></table>",
        '<img src="https://example.com/logo.png" alt="Logo" title="Our logo">',
        "<hr>", "<br>",
    ):
        assert markup in page, markup
    merged = {"type": "doc", "content": [table([cell("tableCell", paragraph("x")) | {
        "attrs": {"colspan": 2, "rowspan": 3, "align": "center"}}])]}
    assert '<td colspan="2" rowspan="3" align="center"><p>x</p></td>' in export.get("html").render(merged, title="")


def test_merged_cells_degrade_to_a_rectangular_markdown_table():
    merged = {"type": "doc", "content": [table(
        [cell("tableCell", paragraph("a")) | {"attrs": {"colspan": 2, "rowspan": 2}}, cell("tableCell", paragraph("b"))],
        [cell("tableCell", paragraph("c"))],
        [cell("tableCell", paragraph("d")), cell("tableCell", paragraph("e", node("hardBreak"), "f")),
         cell("tableCell", paragraph("g"), paragraph("h"))],
    )]}
    md = export.get("md").render(merged, title="")
    assert md == "| a |  | b |\n| --- | --- | --- |\n|  |  | c |\n| d | e<br>f | g<br>h |\n"
    back = importing.parse(md, "md").content["content"][0]
    assert [[len(c["content"][0].get("content", [])) > 0 for c in row["content"]] for row in back["content"]] == [
        [True, False, True], [False, False, True], [True, True, True]]


# --- hostile and oversized input ---------------------------------------------------------------------


@pytest.mark.parametrize("data, name", [
    ('<img src="javascript:alert(1)">', "html"),
    ('<img src="x" onerror="alert(1)">', "html"),
    ('<img src="data:text/html;base64,PHNjcmlwdD4=">', "html"),
    ('<img src="data:image/svg+xml;base64,PHN2Zz4=">', "html"),
    ('<table><tr><td onclick="alert(1)">x</td></tr></table>', "html"),
    ('<ul><li><input type="checkbox" onchange="alert(1)"> x</li></ul>', "html"),
    ("![x](javascript:alert(1))", "md"),
    ("![x](data:text/html,<script>alert(1)</script>)", "md"),
    ("| a |\n| - |\n| <img src=x onerror=alert(1)> |\n", "md"),
])
def test_hostile_rich_input_is_refused(data, name):
    with pytest.raises(ImportRefused) as refused:
        importing.parse(data, name)
    assert refused.value.status == 422 and "Refused" in refused.value.detail


def test_unsafe_image_sources_from_json_are_dropped_with_a_note_and_exports_never_write_them():
    tree = {"type": "doc", "content": [
        {"type": "image", "attrs": {"src": "file:///etc/passwd", "alt": "f"}},
        {"type": "image", "attrs": {"src": "ftp://example.com/a.png", "alt": "s"}},
        {"type": "image", "attrs": {"src": "https://example.com/ok.png"}},
    ]}
    imported = importing.parse(json.dumps(tree), "json")
    assert imported.content == {"type": "doc", "content": [tree["content"][2]]}
    assert imported.notes == ["2 images with an unsupported address skipped"]
    for src in ("javascript:alert(1)", "data:image/svg+xml;base64,PHN2Zz4=", "data:text/html,<script>"):
        hostile = {"type": "doc", "content": [{"type": "image", "attrs": {"src": src, "alt": "x"}}]}
        for name in ("md", "html", "txt", "docx"):
            rendered = export.get(name).render(hostile, title="")
            assert src.encode() not in (rendered if isinstance(rendered, bytes) else rendered.encode()), (name, src)
        with pytest.raises(ImportRefused):
            importing.parse(json.dumps(hostile), "json")


def test_html_keeps_what_it_can_of_odd_tables_and_a_loose_checkbox_is_a_form_control():
    imported = importing.parse(
        "<table><caption>Cap</caption><tr><td>a</td><td colspan=0 rowspan=99999>b</td></tr></table>"
        "<p><input type=checkbox> not in a list</p>", "html")
    [captioned, loose] = imported.content["content"]
    assert captioned == table([cell("tableCell", paragraph("Cap"))],
                              [cell("tableCell", paragraph("a")), cell("tableCell", paragraph("b"))])
    assert loose == paragraph("not in a list")
    assert imported.notes == ["1 form control skipped"]


def test_a_table_of_10000_cells_imports_and_a_larger_one_is_refused_with_413():
    def markdown_table(rows: int, columns: int) -> str:
        header = "|" + "|".join(f"h{c}" for c in range(columns)) + "|\n|" + "|".join("-" * columns) + "|\n"
        return header + "".join("|" + "|".join("x" for _ in range(columns)) + "|\n" for _ in range(rows - 1))

    content = importing.parse(markdown_table(100, 100), "md", max_bytes=10**7).content
    [grid] = content["content"]
    assert sum(len(row["content"]) for row in grid["content"]) == MAX_TABLE_CELLS
    with pytest.raises(ImportRefused) as refused:
        importing.parse(markdown_table(101, 100), "md", max_bytes=10**7)
    assert refused.value.status == 413 and "101 rows by 100 columns" in refused.value.detail
    # Merged cells count by the grid they span: one cell claiming the whole sheet is refused too.
    with pytest.raises(ImportRefused) as refused:
        importing.parse('<table><tr><td colspan="1000">x</td></tr>' + "<tr><td>y</td></tr>" * 20 + "</table>",
                        "html")
    assert refused.value.status == 413
    # Many tables, each within the limit, still count against the document's node budget.
    many = "".join(f"<table>{'<tr><td>a</td><td>b</td></tr>' * 5000}</table>" for _ in range(12))
    with pytest.raises(ImportRefused) as refused:
        importing.parse(many, "html", max_bytes=10**8)
    assert refused.value.status == 413 and str(MAX_NODES) in refused.value.detail

"""The import converters (documents.importing), in process: each format, the CommonMark corpus, Yjs, Tiptap.

The API tests (tests/api/test_import.py) check the same through a real
server; here the corpus runs whole, example by example.
"""

import io
import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from documents import importing
from documents.export import get
from documents.export.tree import document_tree
from documents.importing import ImportRefused
from tests.documents.export.tiptap_node import shape, tiptap_load
from tests.documents.tiptap import bullet_list, heading, link, node, ordered_list, paragraph, text

SPEC = Path(__file__).resolve().parents[1] / "data" / "commonmark" / "spec-0.31.2.json"
MD = get("md")

# Spec examples the import refuses on purpose: their raw HTML holds a <script> element.
REFUSED_AS_HOSTILE = {170, 178}

# The common elements, said in each format.
COMMON_MD = """\
# Plan

Some **bold**, *italic*, ~~struck~~ and `code` text with [a link](https://example.com/a?b=1).\\
After a break.

- one
- two
  1. nested

3. three
4. four

> quoted

```python
print(1)
```

---
"""
COMMON_HTML = """\
<h1>Plan</h1>
<p>Some <strong>bold</strong>, <em>italic</em>, <s>struck</s> and <code>code</code> text with
   <a href="https://example.com/a?b=1">a link</a>.<br>After a break.</p>
<ul><li>one</li><li><p>two</p><ol><li>nested</li></ol></li></ul>
<ol start="3"><li>three</li><li>four</li></ol>
<blockquote><p>quoted</p></blockquote>
<pre><code class="language-python">print(1)</code></pre>
<hr>
"""
COMMON = [
    heading(1, "Plan"),
    paragraph("Some ", text("bold", "bold"), ", ", text("italic", "italic"), ", ", text("struck", "strike"),
              " and ", text("code", "code"), " text with ", text("a link", link("https://example.com/a?b=1")), ".",
              node("hardBreak"), "After a break."),
    bullet_list([paragraph("one")], [paragraph("two"), ordered_list([paragraph("nested")])]),
    ordered_list([paragraph("three")], [paragraph("four")], start=3),
    node("blockquote", paragraph("quoted")),
    node("codeBlock", "print(1)", language="python"),
    node("horizontalRule"),
]


def doc(*blocks) -> dict:
    return {"type": "doc", "content": list(blocks)}


def through_yjs(content: dict) -> dict:
    return document_tree(importing.prosemirror_to_doc(content))


def test_markdown_html_and_json_give_the_same_document():
    for data, name in ((COMMON_MD, "md"), (COMMON_HTML, "html"), (json.dumps(doc(*COMMON)), "json")):
        imported = importing.parse(data, name)
        assert imported.content == doc(*COMMON), name
        assert imported.notes == [], name
        assert through_yjs(imported.content) == imported.content, name


def test_docx_gives_the_same_document_as_markdown():
    import docx  # python-docx: a requirement (the DOCX export), never skipped
    document = docx.Document()
    document.add_heading("Plan", 1)
    para = document.add_paragraph("Some ")
    para.add_run("bold").bold = True
    para.add_run(", ")
    para.add_run("italic").italic = True
    para.add_run(" and ")
    para.add_run("struck").font.strike = True
    document.add_paragraph("one", style="List Bullet")
    document.add_paragraph("two", style="List Bullet")
    document.add_paragraph("first", style="List Number")
    document.add_heading("Details", 2)
    document.add_paragraph("The end.")
    data = io.BytesIO()
    document.save(data)

    from_docx = importing.parse(data.getvalue(), "docx")
    from_md = importing.parse("# Plan\n\nSome **bold**, *italic* and ~~struck~~\n\n- one\n- two\n\n1. first\n\n"
                              "## Details\n\nThe end.\n", "md")
    assert from_docx.content == from_md.content
    assert from_docx.notes == []


def test_plain_text_is_paragraphs_and_line_breaks_and_nothing_else():
    imported = importing.parse("# not a heading\r\nsecond line\n\n\n  *kept*  \n", "txt")
    assert imported.content == doc(
        paragraph("# not a heading", node("hardBreak"), "second line"),
        paragraph("  *kept*  "),
    )


def test_tables_task_lists_images_and_deep_headings_are_kept_not_flattened():
    imported = importing.parse(
        "#### Deep\n\n- [ ] todo\n- [x] done\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n![logo](logo.png) text\n\n"
        "[`f()`](https://example.com)\n", "md")
    cells = lambda kind, *texts, **attrs: [node(kind, paragraph(t), colspan=1, rowspan=1, **attrs) for t in texts]
    assert imported.content == doc(
        heading(4, "Deep"),
        node("taskList", node("taskItem", paragraph("todo"), checked=False),
             node("taskItem", paragraph("done"), checked=True)),
        node("table", node("tableRow", *cells("tableHeader", "a"), *cells("tableHeader", "b", align="right")),
             node("tableRow", *cells("tableCell", "1"), *cells("tableCell", "2", align="right"))),
        node("image", src="logo.png", alt="logo"),
        paragraph("text"),
        paragraph(text("f()", link("https://example.com"))),
    )
    assert imported.notes == ["1 code span inside a link kept as link text"]


def test_what_the_editor_cannot_hold_degrades_to_text_with_notes():
    html = importing.parse('<p><u>under</u> <img src="a.png"> <iframe src="https://x"></iframe>'
                           '<a href="ftp://files/x">ftp</a> <img src="ftp://files/y.png"></p>', "html")
    assert html.content == doc(paragraph("under"), node("image", src="a.png"), paragraph("ftp"))
    assert html.notes == ["1 image skipped", "1 embedded object skipped",
                          "1 link with an unsupported target kept as text",
                          "1 kind of formatting the editor lacks dropped (its text kept)"]
    deep = importing.parse(json.dumps(doc(node("heading", "Seven", level=7))), "json")
    assert (deep.content, deep.notes) == (doc(heading(6, "Seven")), ["1 heading deeper than level 6 became level 6"])


@pytest.mark.parametrize("data, name", [
    ("<p>hi</p><script>alert(1)</script>", "html"),
    ('<p onclick="alert(1)">hi</p>', "html"),
    ('<img src="x" onerror="alert(1)">', "html"),
    ('<a href="javascript:alert(1)">x</a>', "html"),
    ('<a href="java&#x09;script:alert(1)">x</a>', "html"),
    ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "html"),
    ('<iframe src="javascript:alert(1)"></iframe>', "html"),
    ("[x](javascript:alert(1))", "md"),
    ("[x](data:text/html;base64,PHNjcmlwdD4=)", "md"),
    ("<javascript:alert(1)>", "md"),
    ("hi <img src=x onerror=alert(1)>", "md"),
    ("<script>alert(1)</script>", "md"),
    (json.dumps(doc(paragraph(text("x", link("javascript:alert(1)"))))), "json"),
])
def test_hostile_input_is_refused(data, name):
    with pytest.raises(ImportRefused) as refused:
        importing.parse(data, name)
    assert refused.value.status == 422
    assert "Refused" in refused.value.detail


def test_invalid_input_is_refused_with_a_clear_status(settings):
    cases = [
        (b"\xff\xfeno", "md", 422, "not valid UTF-8"),
        (b"plain text", "docx", 422, "not a .docx"),
        ("{not json", "json", 422, "not valid JSON"),
        ('{"type": "paragraph"}', "json", 422, '"type": "doc"'),
        ("x", "rtf", 415, "Unknown import format"),
        ("[" * 100_000 + "]" * 100_000, "json", 422, "nested too deeply"),
    ]
    for data, name, status, words in cases:
        with pytest.raises(ImportRefused) as refused:
            importing.parse(data, name)
        assert (refused.value.status, words in refused.value.detail) == (status, True), refused.value.detail
    settings.IMPORT_MAX_BYTES = 1000
    with pytest.raises(ImportRefused) as refused:
        importing.parse("x" * 1001, "txt")
    assert refused.value.status == 413


def zip_of(members: dict) -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return data.getvalue()


def test_a_zip_bomb_docx_is_refused_before_it_is_inflated():
    bomb = zip_of({"[Content_Types].xml": "<Types/>", "word/document.xml": b"<w:document>" + b" " * 200_000_000})
    assert len(bomb) < 1_000_000
    with pytest.raises(ImportRefused) as refused:
        importing.parse(bomb, "docx")
    assert refused.value.status == 413 and "zip bomb" in refused.value.detail
    laughs = zip_of({"word/document.xml": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><x>&lol;</x>'})
    with pytest.raises(ImportRefused, match="DTD"):
        importing.parse(laughs, "docx")
    with pytest.raises(ImportRefused, match="not a Word document"):
        importing.parse(zip_of({"hello.txt": "hi"}), "docx")


def test_hostile_nesting_is_flattened_not_recursed():
    deep_html = "<blockquote>" * 5000 + "bottom" + "</blockquote>" * 5000
    imported = importing.parse(deep_html, "html")
    assert "content nested deeper than 64 levels was flattened" in imported.notes
    assert through_yjs(imported.content) == imported.content
    deep_md = "> " * 5000 + "bottom\n"
    assert through_yjs(importing.parse(deep_md, "md").content)["content"]


def test_the_yjs_document_reads_back_as_the_json_it_was_written_from():
    content = doc(
        paragraph(text("a😀b", "bold", "italic"), "c😀", node("hardBreak"), text("x", link("https://x.org"))),
        ordered_list([paragraph("i"), node("codeBlock")], start=0),
        node("blockquote", paragraph()),
        paragraph(),
        heading(2, text("t", "strike")),
    )
    assert importing.parse(json.dumps(content), "json").content == content
    assert through_yjs(content) == content


def spec_examples():
    return json.loads(SPEC.read_text())


def test_the_commonmark_spec_examples_round_trip_stably():
    """import → export md → import → export md: the two exports are equal (the first one normalizes)."""
    results: Counter = Counter()
    unstable = []
    contents = []
    for example in spec_examples():
        number = example["example"]
        try:
            imported = importing.parse(example["markdown"], "md")
        except ImportRefused:
            assert number in REFUSED_AS_HOSTILE, f"example {number} refused"
            results["refused as hostile"] += 1
            continue
        content = imported.content
        contents.append(content)
        assert through_yjs(content) == content, f"example {number}"
        first = MD.render(content, title="")
        second = MD.render(importing.parse(first, "md").content, title="")
        if first == second:
            results["stable"] += 1
        else:
            unstable.append((number, example["markdown"], first, second))
    print(f"CommonMark 0.31.2: {dict(results)} of {len(spec_examples())} examples")
    assert not unstable, unstable[:5]
    assert results == {"stable": 650, "refused as hostile": 2}

    # Every imported document is one that Tiptap's own schema check accepts (an empty one as the editor
    # holds it: one empty paragraph).
    # The whole corpus as one file too: reference definitions and raw HTML then meet other examples' links.
    whole = importing.parse("\n\n".join(e["markdown"] for e in spec_examples()
                                        if e["example"] not in REFUSED_AS_HOSTILE), "md").content
    documents = [c if c["content"] else doc(paragraph()) for c in contents + [whole]]
    loaded = tiptap_load(documents)
    failures = [(d, result) for d, result in zip(documents, loaded) if "error" in result]
    assert not failures, failures[:3]
    assert [shape(result["ok"]) for result in loaded] == [shape(d) for d in documents]


# --- properties over generated documents (tests/documents/export/strategies.py) -----------------

from hypothesis import HealthCheck, given, settings as hypothesis_settings  # noqa: E402

from documents.importing.schema import Notes, normalize  # noqa: E402
from tests.documents.export.strategies import documents  # noqa: E402


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_a_normalized_document_is_a_fixed_point_and_survives_yjs(document):
    fitted = normalize(document, Notes())
    assert normalize(fitted, Notes()) == fitted
    assert through_yjs(fitted) == fitted
    # Markdown out and in: after the first time (which may move spaces out of marks, as Markdown
    # needs), out and in again changes nothing.
    first = MD.render(importing.parse(MD.render(fitted, title=""), "md").content, title="")
    second = MD.render(importing.parse(first, "md").content, title="")
    assert second == first


def test_nodes_written_at_an_index_land_there_in_order():
    existing = importing.prosemirror_to_doc(doc(paragraph("first"), paragraph("last")))
    from documents.content import fragment_of

    with existing.transaction():
        importing.write_nodes(fragment_of(existing), [heading(2, "a"), paragraph("b", text("c", "bold"))], index=1)
    assert document_tree(existing) == doc(paragraph("first"), heading(2, "a"), paragraph("b", text("c", "bold")),
                                          paragraph("last"))


def test_a_long_document_is_written_in_linear_time():
    import time

    def seconds(blocks: int) -> float:
        content = doc(*[paragraph("line ", text(str(n), "bold")) for n in range(blocks)])
        start = time.perf_counter()
        importing.prosemirror_to_state(content)
        return time.perf_counter() - start

    small, large = seconds(5_000), seconds(20_000)
    # Quadratic would be 16 times; a loaded machine makes linear up to a few times slower.
    assert large < small * 8 + 0.5, (small, large)


# --- GFM and XSS cases: markdown-it-py's own fixtures (tests/data/markdown-it/README.md) ----------

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "markdown-it"


def fixture_cases(name: str) -> list[tuple[str, str]]:
    """(title, Markdown) of each case of a markdown-it fixture file: [title] "." input "." output "."."""
    cases, lines = [], (FIXTURES / name).read_text().split("\n")
    i, title = 0, ""
    while i < len(lines):
        if lines[i] != ".":
            title = lines[i] or title
            i += 1
            continue
        end = lines.index(".", i + 1)
        cases.append((title, "\n".join(lines[i + 1 : end]) + "\n"))
        i = lines.index(".", end + 1) + 1  # past the expected HTML
        title = ""
    return cases


def test_gfm_tables_strikethrough_and_task_lists_round_trip_stably():
    counts = Counter()
    for name in ("tables.md", "strikethrough.md", "tasklists.md"):
        cases = fixture_cases(name)
        assert len(cases) > 5, name
        for title, markdown in cases:
            content = importing.parse(markdown, "md").content
            assert through_yjs(content) == content, (name, title)
            first = MD.render(content, title="")
            second = MD.render(importing.parse(first, "md").content, title="")
            assert second == first, (name, title, markdown, first, second)
            counts[name] += 1
    print(f"GFM fixtures stable: {dict(counts)}")


def test_markdown_it_xss_cases_are_refused_or_import_nothing_that_runs():
    outcomes = Counter()
    for title, markdown in fixture_cases("xss.md"):
        try:
            content = importing.parse(markdown, "md").content
        except ImportRefused as refused:
            assert refused.status == 422, title
            outcomes["refused"] += 1
            continue
        outcomes["imported"] += 1
        hrefs = [mark["attrs"]["href"] for node in _walk(content) for mark in node.get("marks", ())
                 if mark["type"] == "link"]
        assert all(importing.schema.safe_href(href) == href for href in hrefs), (title, hrefs)
        srcs = [node["attrs"]["src"] for node in _walk(content) if node["type"] == "image"]
        assert all(importing.schema.safe_image_src(src) == src for src in srcs), (title, srcs)
    print(f"markdown-it XSS cases: {dict(outcomes)}")
    # Refused: script and data: links, and an image at a javascript: address; a data: GIF is an image.
    assert outcomes == {"refused": 7, "imported": 6}


def _walk(node: dict):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.get("content", ()))


async def test_the_worker_process_converts_and_refuses_as_parse_does():
    from documents.importing.worker import aconvert

    state, notes = await aconvert(COMMON_MD + "\n![logo](ftp://x/logo.png)\n", "md", 1_000_000)
    assert document_tree(state) == doc(*COMMON)
    assert notes == ["1 image with an unsupported address skipped"]
    for data, name, limit, status in (("x" * 100, "txt", 10, 413), ("<script>x</script>", "html", 1000, 422),
                                      (b"zip?", "docx", 1000, 422)):
        with pytest.raises(ImportRefused) as refused:
            await aconvert(data, name, limit)
        assert refused.value.status == status, refused.value.detail

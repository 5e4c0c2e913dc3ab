"""Markdown export (documents.export.markdown): exact output, and it parses back to the same document."""

import pytest
from hypothesis import HealthCheck, given, settings

from documents import export
from tests.documents.export import markdown_structure, strategies
from tests.documents.export.sample import SAMPLE_MD, SAMPLE, TITLE
from tests.documents.tiptap import build, bullet_list, heading, link, node, ordered_list, paragraph, text

def md(nodes) -> str:
    return export.get("md").render_state(build(nodes), title=TITLE)


def assert_round_trips(nodes):
    output = md(nodes)
    parsed = markdown_structure.parse(output)
    expected = markdown_structure.expected({"type": "doc", "content": nodes})
    assert parsed == expected, f"Markdown did not parse back to the document:\n{output}"
    return output


def test_the_sample_renders_to_exactly_this_markdown():
    assert md(SAMPLE) == SAMPLE_MD


def test_the_sample_parses_back_to_the_same_structure():
    assert_round_trips(SAMPLE)
    parsed = markdown_structure.parse(SAMPLE_MD)
    kinds = [block[0] for block in parsed]
    assert kinds == ["heading", "paragraph", "bulletList", "orderedList", "codeBlock", "blockquote",
                     "horizontalRule", "paragraph"], kinds


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        # Text that looks like Markdown stays text.
        ([paragraph("# not a heading")], "\\# not a heading\n"),
        ([paragraph("1. not a list")], "1\\. not a list\n"),
        ([paragraph("- not a list")], "\\- not a list\n"),
        ([paragraph("> not a quote")], "\\> not a quote\n"),
        ([paragraph("*stars* _under_ `tick` [a](b) <b> ~~s~~ \\ &amp;")],
         "\\*stars\\* \\_under\\_ \\`tick\\` \\[a\\](b) \\<b> \\~\\~s\\~\\~ \\\\ \\&amp;\n"),
        ([paragraph("a -> b & c = d")], "a -> b & c = d\n"),
        ([paragraph("   indented")], "&#32;&#32;&#32;indented\n"),
        ([paragraph("two\nlines")], "two&#10;lines\n"),
        ([heading(2, "C# #")], "## C\\# \\#\n"),
        # Marks: whitespace moves outside, delimiters next to punctuation still count.
        ([paragraph("a", text(" bold ", "bold"), "b")], "a **bold** b\n"),
        ([paragraph(text("a.", "bold"), "b")], "**a.**&#98;\n"),
        ([paragraph("x", text('"q"', "italic"), "y")], "&#120;*\"q\"*&#121;\n"),
        ([paragraph(text("a", "bold"), text("b", "bold", "italic"), text("c", "italic"))], "**&#97;_b_**_c_\n"),
        ([paragraph(text("wow", "bold", "italic", "strike"))], "**_~~wow~~_**\n"),
        ([paragraph("Hey!", text("link", link("/x")))], "Hey\\![link](/x)\n"),
        ([paragraph(text("a`b", "code"))], "``a`b``\n"),
        ([paragraph(text("`", "code"))], "`` ` ``\n"),
        ([paragraph(text("x", link("https://e.com/a b(c)")))], "[x](https://e.com/a%20b\\(c\\))\n"),
        ([paragraph(text("x", link("javascript:alert(1)")))], "x\n"),
        ([paragraph("a", node("hardBreak"), "- b", node("hardBreak"))], "a\\\n\\- b\n"),
        # Blocks.
        ([bullet_list([paragraph("a")]), bullet_list([paragraph("b")])], "- a\n\n* b\n"),
        ([ordered_list([paragraph("a")]), ordered_list([paragraph("b")])], "1. a\n\n1) b\n"),
        ([bullet_list([node("horizontalRule")])], "- ***\n"),
        ([bullet_list([paragraph("a"), paragraph("b")], [paragraph("c")])], "- a\n\n  b\n\n- c\n"),
        ([ordered_list([paragraph("a"), ordered_list([paragraph("b")], start=2)])], "1. a\n\n   2. b\n"),
        ([node("codeBlock", "```\nx", language="js")], "````js\n```\nx\n````\n"),
        ([node("codeBlock", "x", language="we`ird")], "~~~we`ird\nx\n~~~\n"),
        ([node("codeBlock")], "```\n```\n"),
        ([node("blockquote", paragraph())], ">\n"),
        ([paragraph(), paragraph("   ")], ""),
    ],
)
def test_edge_cases(nodes, expected):
    assert assert_round_trips(nodes) == expected


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(strategies.documents)
def test_any_document_parses_back_to_itself(tree):
    output = export.get("md").render(tree, title="")
    assert markdown_structure.parse(output) == markdown_structure.expected(tree), output


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(strategies.rich_documents)
def test_any_rich_document_parses_back_to_itself(tree):
    """Task lists, tables and images too: GFM with markdown-it-py's table and mdit-py-plugins' tasklists."""
    output = export.get("md").render(tree, title="", base_url="https://docs.example/")
    assert markdown_structure.parse(output) == markdown_structure.expected(tree, "https://docs.example/"), output

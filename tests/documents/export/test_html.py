"""HTML export (documents.export.html): standalone page and embeddable fragment."""

import re

import pytest

from documents import export
from documents.export.html import PAGE_CSP, render_fragment, render_page
from tests.documents.export.sample import SAMPLE_HTML, SAMPLE, TITLE
from tests.documents.tiptap import build, link, node, paragraph, text

def test_the_sample_renders_to_exactly_this_fragment():
    assert render_fragment(build(SAMPLE)) == SAMPLE_HTML


def test_fragment_accepts_a_doc_its_state_or_its_json():
    doc = build(SAMPLE)
    assert render_fragment(doc.get_update()) == SAMPLE_HTML
    assert render_fragment({"type": "doc", "content": SAMPLE}) == SAMPLE_HTML


def test_the_page_is_standalone_titled_and_wraps_the_fragment():
    page = export.get("html").render_state(build(SAMPLE), title=TITLE)
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
    assert "<title>Notes: \"Q3\" &lt;draft&gt;</title>" in page, "the title must be escaped"
    assert f"<article>\n{SAMPLE_HTML}\n</article>" in page
    assert f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">' in page
    assert "script-src" not in PAGE_CSP and "default-src 'none'" in PAGE_CSP, "scripts must be off"
    assert page.endswith("</html>\n")


def test_hostile_text_and_links_come_out_inert():
    doc = build([
        paragraph("<script>alert(1)</script> & <img src=x onerror=alert(1)>"),
        paragraph(text("click", link("javascript:alert(1)")), " ", text("me", link(" JAVASCRIPT:alert(2)"))),
        paragraph(text("quote", link('https://x/"><script>alert(3)</script>'))),
        node("codeBlock", "</code></pre><script>alert(4)</script>", language='"><script>alert(5)</script>'),
    ])
    page = render_page(doc, title="</title><script>alert(6)</script>")
    assert "<script" not in page and "<img" not in page, "no markup may come from the document"
    assert "javascript:" not in page.lower(), "javascript: links must be dropped"
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;</p>" in page
    assert "<p>click me</p>" in page, "a dropped link keeps its text"
    assert '<a href="https://x/&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"' in page
    assert '<pre><code class="language-scriptalert5script">&lt;/code&gt;&lt;/pre&gt;' in page
    # Every tag left is one the renderer writes itself.
    tags = set(re.findall(r"</?([a-zA-Z0-9]+)", page))
    assert tags <= {"html", "head", "meta", "title", "style", "body", "article", "p", "a", "pre", "code"}, tags


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # Overlapping marks nest properly; the longer-running one outside.
        ([text("a", "bold"), text("b", "bold", "italic"), text("c", "italic")],
         "<p><strong>a<em>b</em></strong><em>c</em></p>"),
        ([text("a", "italic"), text("b", "bold", "italic"), text("c", "bold")],
         "<p><em>a<strong>b</strong></em><strong>c</strong></p>"),
        ([text("x", link("/a"), "bold"), text("y", link("/a"))],
         '<p><a href="/a" rel="noopener noreferrer nofollow"><strong>x</strong>y</a></p>'),
        ([text("a", "bold"), node("hardBreak"), text("b", "bold")], "<p><strong>a</strong><br><strong>b</strong></p>"),
        ([text("x", "superscript"), text("y", "textStyle")], "<p><sup>x</sup>y</p>"),
    ],
)
def test_inline_marks(content, expected):
    assert render_fragment(build([paragraph(*content)])) == expected


def test_unknown_nodes_keep_their_content_and_an_empty_document_is_empty():
    assert render_fragment(build([node("details", paragraph("inside"))])) == "<p>inside</p>"
    assert render_fragment(build([])) == ""
    assert render_fragment(build([node("heading", "x", level=9)])) == "<h1>x</h1>", "levels outside 1-6 are 1"

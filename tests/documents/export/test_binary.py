"""The PDF (WeasyPrint) and DOCX (python-docx) exports, read back with pypdf and python-docx."""

import io

import docx
from pypdf import PdfReader

from documents import export
from tests.documents.export.sample import SAMPLE, TITLE
from tests.documents.tiptap import link, node, paragraph, text
from tests.support.exports import docx_paragraphs, pdf_text

DOC = {"type": "doc", "content": SAMPLE}


def test_the_pdf_holds_the_documents_text_and_title():
    data = export.get("pdf").render(DOC, title=TITLE)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.title == TITLE
    words = " ".join(pdf_text(data).split())
    for expected in ("Release notes", "We really mean it, see the docs.", "Fast", "no eval()", 'print("hi")',
                     "Line one", "line two", "old and underlined"):
        assert expected in words, f"{expected!r} missing from {words!r}"


def test_the_pdf_fetches_nothing_a_document_names():
    # The HTML export has no images; even if a link pointed at a local file, nothing is read.
    tree = {"type": "doc", "content": [paragraph(text("secret", link("file:///etc/passwd")))]}
    data = export.get("pdf").render(tree, title="t")
    assert b"root:" not in data and "secret" in pdf_text(data)


def test_the_docx_has_the_documents_blocks_as_word_styles():
    data = export.get("docx").render(DOC, title=TITLE)
    document = docx.Document(io.BytesIO(data))
    assert document.core_properties.title == TITLE
    assert docx_paragraphs(data) == [
        ("Heading 1", "Release notes"),
        ("Normal", "We really mean it, see the docs."),
        ("List Bullet", "Fast"),
        ("List Bullet", "Safe"),
        ("List Bullet 2", "no eval()"),
        ("List Bullet 2", "escaped"),
        ("List Number", "Install"),
        ("List Number", "Run"),
        ("Normal", 'print("hi")\nexit()'),
        ("Quote", "Line one\nline two"),
        ("Normal", ""),
        ("Normal", "old and underlined"),
    ]
    runs = {run.text: run for p in document.paragraphs for run in p.runs}
    assert runs["really "].bold and runs["mean"].bold and runs["mean"].italic
    assert runs["old"].font.strike and runs["underlined"].underline
    assert runs["eval()"].font.name == "Courier New"
    # The link is a real hyperlink to its target.
    [hyperlink] = document.paragraphs[1].hyperlinks
    assert (hyperlink.text, hyperlink.address) == ("the docs", "https://example.com/docs?a=1&b=2")


def test_the_docx_drops_unsafe_links_and_characters_xml_cannot_hold():
    tree = {"type": "doc", "content": [
        paragraph(text("click", link("javascript:alert(1)")), " bell\x07 nul\x00"),
        node("heading", "Deep", level=9),
    ]}
    document = docx.Document(io.BytesIO(export.get("docx").render(tree, title="a\x01b")))
    assert document.paragraphs[0].text == "click bell nul"
    assert document.paragraphs[0].hyperlinks == []
    assert (document.paragraphs[1].style.name, document.paragraphs[1].text) == ("Heading 1", "Deep")
    assert document.core_properties.title == "ab"

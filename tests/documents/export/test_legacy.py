"""A document made before rich content (tables, task lists, images...) exports exactly as it did then.

tests/data/legacy/ holds such a document's Yjs state and main's exports of
it at c88b390, byte for byte (docx: its paragraphs, as the .docx zip holds
timestamps): headings 1-3, lists, code, a quote, links, marks, and text that
looks like the new syntax ("[ ] task", "a | b"), which must stay text.
"""

import json
from pathlib import Path

import pytest

from documents import export
from tests.support.exports import docx_paragraphs

LEGACY = Path(__file__).resolve().parents[2] / "data" / "legacy"
TITLE = 'Plan <Q3> & "more"'


@pytest.mark.parametrize("name", ["txt", "md", "html", "json"])
def test_an_old_document_exports_byte_for_byte_as_before(name):
    state = (LEGACY / "document.ystate").read_bytes()
    rendered = export.get(name).render_state(state, title=TITLE)
    assert rendered.encode("utf-8") == (LEGACY / f"export.{name}").read_bytes()


def test_an_old_document_exports_to_the_same_word_paragraphs():
    state = (LEGACY / "document.ystate").read_bytes()
    expected = [tuple(pair) for pair in json.loads((LEGACY / "export.docx.json").read_text())]
    assert docx_paragraphs(export.get("docx").render_state(state, title="Plan")) == expected

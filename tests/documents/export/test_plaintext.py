"""Plain-text export (documents.export.plaintext)."""

import pytest

from documents import export
from tests.documents.export.sample import SAMPLE_TXT, SAMPLE, TITLE
from tests.documents.tiptap import build, bullet_list, heading, link, node, ordered_list, paragraph, text

def render(nodes) -> str:
    return export.get("txt").render_state(build(nodes), title=TITLE)


def test_the_sample_renders_to_exactly_this_text():
    assert render(SAMPLE) == SAMPLE_TXT


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        ([heading(2, "Sub")], "Sub\n---\n"),
        ([heading(3, "Minor")], "Minor\n"),
        ([paragraph(text("https://x.org", link("https://x.org")))], "https://x.org\n"),
        ([paragraph(text("mail", link("mailto:a@b.c")))], "mail (mailto:a@b.c)\n"),
        ([paragraph(text("bad", link("javascript:alert(1)")))], "bad\n"),
        ([paragraph(text("one ", link("/a")), text("link", link("/a"), "bold"))], "one link (/a)\n"),
        ([ordered_list([paragraph("a"), paragraph("b")], [paragraph("c")], start=9)], "9. a\n\n   b\n10. c\n"),
        ([bullet_list([paragraph()])], "-\n"),
        ([node("blockquote", paragraph("a"), paragraph("b"))], "> a\n>\n> b\n"),
        ([paragraph(), paragraph()], ""),
        ([], ""),
    ],
)
def test_blocks(nodes, expected):
    assert render(nodes) == expected

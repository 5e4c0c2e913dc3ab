"""Which link targets a rendered export keeps (documents.export.links)."""

import pytest

from documents.export.links import safe_href


@pytest.mark.parametrize(
    "href",
    ["https://example.com/", "http://x", "mailto:a@b.c", "tel:+1", "/relative", "page.html", "#top", "//cdn.example/x"],
)
def test_ordinary_targets_are_kept(href):
    assert safe_href(href) == href


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "\x00javascript:alert(1)",
        "&#106;avascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "",
        "   ",
        None,
        42,
    ],
)
def test_script_and_odd_targets_are_dropped(href):
    assert safe_href(href) is None, f"{href!r} must not survive"

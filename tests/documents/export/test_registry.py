"""The registry of export formats (documents.export.registry)."""

import pytest

from documents import export
from documents.export.base import Renderer


def test_the_six_formats_are_registered():
    assert export.formats() == ["docx", "html", "json", "md", "pdf", "txt"]


@pytest.mark.parametrize(
    ("name", "extension", "content_type"),
    [
        ("html", "html", "text/html; charset=utf-8"),
        ("json", "json", "application/json"),
        ("md", "md", "text/markdown; charset=utf-8"),
        ("txt", "txt", "text/plain; charset=utf-8"),
        ("pdf", "pdf", "application/pdf"),
        ("docx", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ],
)
def test_each_format_says_how_to_serve_it(name, extension, content_type):
    renderer = export.get(name)
    assert (renderer.extension, renderer.content_type) == (extension, content_type)


@pytest.mark.parametrize("name", ["odt", "", None, "HTML", ["md"]])
def test_an_unknown_format_names_the_valid_ones(name):
    with pytest.raises(export.UnknownFormat) as caught:
        export.get(name)
    assert caught.value.valid == ["docx", "html", "json", "md", "pdf", "txt"]
    assert "expected one of: docx, html, json, md, pdf, txt" in str(caught.value)


def test_a_renderer_must_implement_render_and_declare_itself():
    class Half(Renderer):
        name, extension, content_type = "half", "h", "text/x-half"

    with pytest.raises(NotImplementedError, match=r"Half must implement render"):
        Half().render({"type": "doc", "content": []}, title="")
    with pytest.raises(TypeError, match="must set name, extension and content_type"):
        export.register(type("Nameless", (Renderer,), {}))
    with pytest.raises(ValueError, match="already registered"):
        export.register(type("Dup", (Renderer,), {"name": "md", "extension": "md", "content_type": "text/markdown"}))

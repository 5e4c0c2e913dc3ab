"""JSON export (documents.export.prosemirror): ProseMirror JSON that Tiptap accepts."""

import json

from documents import export
from tests.documents.export.sample import SAMPLE
from tests.documents.export.tiptap_node import shape, tiptap_load
from tests.documents.tiptap import build, link, paragraph, text


def render(nodes) -> dict:
    return json.loads(export.get("json").render_state(build(nodes), title="t"))


def test_the_sample_is_its_prosemirror_json():
    assert render(SAMPLE) == {"type": "doc", "content": SAMPLE}


def test_an_empty_document_keeps_the_paragraph_a_doc_needs():
    assert render([]) == {"type": "doc", "content": [{"type": "paragraph"}]}


def test_json_keeps_link_targets_as_stored():
    tree = render([paragraph(text("x", link("javascript:alert(1)")))])
    assert tree["content"][0]["content"][0]["marks"] == [link("javascript:alert(1)")], "JSON is data: kept as stored"


def test_output_is_utf8_not_escaped():
    assert export.get("json").render_state(build([paragraph("é ✓")]), title="") == (
        '{"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "é ✓"}]}]}'
    )


def test_tiptap_loads_the_exports_unchanged():
    from hypothesis import HealthCheck, given, settings

    from tests.documents.export import strategies

    documents = [render(SAMPLE), render([])]

    # A batch of generated documents as well, loaded in one Node process.
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(strategies.documents)
    def collect(tree):
        documents.append(json.loads(export.get("json").render(tree, title="")))

    collect()
    results = tiptap_load(documents)
    for document, result in zip(documents, results):
        assert "error" not in result, f"Tiptap refused {document}: {result['error']}"
        loaded = result["ok"]
        assert shape(loaded) == shape(document), "Tiptap changed the document while loading it"


def test_tiptap_refuses_a_broken_document():
    """The check above would notice an invalid export: Tiptap does reject bad JSON."""
    results = tiptap_load([{"type": "doc", "content": [{"type": "listItem"}]}])
    assert "error" in results[0], "a listItem directly in the doc must be refused"

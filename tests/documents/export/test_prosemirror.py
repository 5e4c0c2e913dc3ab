"""JSON export (documents.export.prosemirror): ProseMirror JSON that Tiptap accepts."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from documents import export
from tests.documents.export.sample import SAMPLE
from tests.documents.tiptap import build, link, paragraph, text

FRONTEND = Path(__file__).resolve().parents[3] / "frontend"

# Loads each document with Tiptap's own setContent path (createNodeFromContent
# with errorOnInvalidContent, which also runs ProseMirror's check()) against
# the schema of the editor's extensions, and prints what Tiptap made of it.
TIPTAP_LOAD = """
import { getSchema, createNodeFromContent } from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";
const schema = getSchema([StarterKit]);
let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = JSON.parse(input).map((doc) => {
  try {
    return { ok: createNodeFromContent(doc, schema, { errorOnInvalidContent: true }).toJSON() };
  } catch (error) {
    return { error: String(error && error.message) };
  }
});
process.stdout.write(JSON.stringify(results));
"""


def render(nodes) -> dict:
    return json.loads(export.get("json").render_state(build(nodes), title="t"))


def tiptap_load(documents: list[dict]) -> list[dict]:
    if shutil.which("node") is None or not (FRONTEND / "node_modules" / "@tiptap" / "core").is_dir():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("node and frontend/node_modules (npm ci in frontend/) are required under CI")
        pytest.skip("node or frontend/node_modules missing")
    proc = subprocess.run(
        ["node", "--input-type=module", "-e", TIPTAP_LOAD],
        cwd=FRONTEND, input=json.dumps(documents), capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


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
        assert _shape(loaded) == _shape(document), "Tiptap changed the document while loading it"


def _shape(node):
    """Types, text and the attrs we set, ignoring the defaults Tiptap adds."""
    if isinstance(node, list):
        return [_shape(n) for n in node]
    shape = {"type": node["type"]}
    if "text" in node:
        shape["text"] = node["text"]
    if node.get("marks"):
        shape["marks"] = sorted((m["type"], (m.get("attrs") or {}).get("href")) for m in node["marks"])
    attrs = node.get("attrs") or {}
    for key in ("level", "start", "language"):
        if attrs.get(key) not in (None, "", 1) or (key == "level" and key in attrs):
            shape[key] = attrs[key]
    if node.get("content"):
        shape["content"] = _shape(node["content"])
    return shape


def test_tiptap_refuses_a_broken_document():
    """The check above would notice an invalid export: Tiptap does reject bad JSON."""
    results = tiptap_load([{"type": "doc", "content": [{"type": "listItem"}]}])
    assert "error" in results[0], "a listItem directly in the doc must be refused"

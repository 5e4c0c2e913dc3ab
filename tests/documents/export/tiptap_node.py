"""Loading ProseMirror JSON with Tiptap itself, in Node, from the editor's own node_modules."""

import json
import shutil
import subprocess
from pathlib import Path

from tests.support.services import missing

FRONTEND = Path(__file__).resolve().parents[3] / "frontend"

# Loads each document with Tiptap's own setContent path (createNodeFromContent
# with errorOnInvalidContent, which also runs ProseMirror's check()) against
# the schema of the editor's own content extensions (frontend/js/content.js:
# StarterKit, headings 1-6, Table, TaskList/TaskItem with nesting, block Image,
# the suggestion marks; StarterKit's underline kept, as older documents and the
# exporters know it), and prints what Tiptap made of it.
TIPTAP_LOAD = """
import { getSchema, createNodeFromContent } from "@tiptap/core";
import { contentExtensions } from "./js/content.js";
const schema = getSchema(contentExtensions());
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


def tiptap_load(documents: list[dict]) -> list[dict]:
    modules = FRONTEND / "node_modules" / "@tiptap"
    if shutil.which("node") is None or not all((modules / name).is_dir() for name in (
            "core", "starter-kit", "extension-table", "extension-list", "extension-image")):
        missing("node and frontend/node_modules with Tiptap's table, list and image extensions (npm ci in frontend/)")
    proc = subprocess.run(
        ["node", "--input-type=module", "-e", TIPTAP_LOAD],
        cwd=FRONTEND, input=json.dumps(documents), capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def shape(node):
    """Types, text and the attrs we set, ignoring the defaults Tiptap adds."""
    if isinstance(node, list):
        return [shape(n) for n in node]
    out = {"type": node["type"]}
    if "text" in node:
        out["text"] = node["text"]
    if node.get("marks"):
        out["marks"] = sorted((m["type"], (m.get("attrs") or {}).get("href") or (m.get("attrs") or {}).get("id"))
                              for m in node["marks"])
    attrs = node.get("attrs") or {}
    for key in ("level", "start", "language", "checked", "colspan", "rowspan", "colwidth", "align", "src", "alt",
                "title"):
        if attrs.get(key) not in (None, "", 1) or (key in ("level", "checked") and key in attrs):
            out[key] = attrs[key]
    if node.get("content"):
        out["content"] = shape(node["content"])
    return out

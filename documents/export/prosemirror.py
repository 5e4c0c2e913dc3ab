"""JSON: the document's ProseMirror JSON, as Tiptap's `getJSON()` gives and `setContent` takes.

It is the document as stored, links included whatever their target (it is
data for an editor, not something a browser renders); only the editor's
empty trailing paragraph is left out, and an empty document keeps the one
empty paragraph that ProseMirror's `doc` node requires (`block+`).
"""

import json

from .base import Renderer
from .registry import register


@register
class ProseMirrorJsonRenderer(Renderer):
    name = "json"
    extension = "json"
    content_type = "application/json"

    def render(self, tree: dict, *, title: str, base_url: str | None = None) -> str:
        # As stored: image addresses too (data for an editor on this site).
        if not tree.get("content"):
            tree = {"type": "doc", "content": [{"type": "paragraph"}]}
        return json.dumps(tree, ensure_ascii=False)

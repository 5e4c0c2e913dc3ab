"""ProseMirror JSON import: what Tiptap's `getJSON()` gives (and our json export), fitted to the editor's schema.

The JSON is checked for depth before anything walks it (any depth is easy
to send), then `schema.normalize` keeps what the editor has: unknown nodes
become their content, unknown marks are dropped, each with a note. A link
or image at a `javascript:` (or similar) URL refuses the import, as it does
in HTML and Markdown.
"""

from __future__ import annotations

import json

from ..export.links import safe_image_src
from .html import hostile_link
from .schema import MAX_DEPTH, ImportRefused, count_depth

# A document's JSON nests twice per list level (list, item) plus text and marks.
MAX_JSON_DEPTH = 2 * MAX_DEPTH + 4


def parse_json(source) -> dict:
    if isinstance(source, str):
        try:
            tree = json.loads(source)
        except RecursionError:
            raise ImportRefused(f"The JSON is nested too deeply (more than {MAX_JSON_DEPTH} levels)") from None
        except ValueError as exc:
            raise ImportRefused(f"This is not valid JSON: {exc}") from None
    else:
        tree = source
    if isinstance(tree, list):
        tree = {"type": "doc", "content": tree}
    if not isinstance(tree, dict) or tree.get("type") != "doc" or not isinstance(tree.get("content", []), list):
        raise ImportRefused('ProseMirror JSON must be an object {"type": "doc", "content": [...]}')
    if count_depth(tree) > MAX_JSON_DEPTH:
        raise ImportRefused(f"The JSON is nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    _refuse_script_links(tree)
    return tree


def _refuse_script_links(tree: dict) -> None:
    stack = [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        for mark in node.get("marks") or () if isinstance(node.get("marks"), list) else ():
            href = mark.get("attrs", {}).get("href") if isinstance(mark, dict) and isinstance(mark.get("attrs"), dict) else None
            if isinstance(href, str) and hostile_link(href):
                raise ImportRefused(f"Refused: the JSON contains a {hostile_link(href)}: link. "
                                    "Scripts do not run in documents; remove it and import again.")
        attrs = node.get("attrs") if isinstance(node.get("attrs"), dict) else {}
        src = attrs.get("src") if node.get("type") == "image" else None
        if isinstance(src, str) and hostile_link(src) and not safe_image_src(src):
            raise ImportRefused(f"Refused: the JSON contains a {hostile_link(src)}: image. "
                                "Scripts do not run in documents; remove it and import again.")
        content = node.get("content")
        if isinstance(content, list):
            stack.extend(content)

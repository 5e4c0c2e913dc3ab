"""Pending suggestions (track changes, issue 20) in the exports.

A suggestion is a pair of marks in the document itself (frontend/js/
suggestion-marks.js): `suggestionInsert` on text proposed for insertion and
`suggestionDelete` on text proposed for deletion, each with attrs {id, author
(username), name, at (ISO time)}. Until an owner or editor accepts or rejects
it, it is a proposal, not content. Each export says so as far as its format
can:

- json: the document as it is, marks included. It is the lossless format: it
  imports back with the suggestions still pending.
- html, and pdf (laid out from the HTML): the proposal as the editor shows it,
  `<ins>` / `<del>` with class "suggestion" and the suggestion's data
  attributes (data-suggestion-id, -author, -name, -at), which the HTML import
  (and the editor's paste) read back as suggestions.
- md, txt, docx: the text as if every pending suggestion were rejected: the
  text the document's owners and editors have agreed to so far. Markdown and
  plain text have no way to mark a proposal, and python-docx writes no
  tracked changes; written out as ordinary text, a proposed insertion would
  read as agreed text and a proposed deletion could not be told from the
  rest, so a file sent on would silently carry what nobody reviewed. What is
  pending is not lost: json and html keep it.

`rejected(tree)` makes that last view; a document without suggestions is
returned as it is (the same object), so its exports do not change at all.
"""

from __future__ import annotations

INSERT = "suggestionInsert"
DELETE = "suggestionDelete"
MARKS = (INSERT, DELETE)
# Attributes a suggestion mark carries (all strings), and the longest kept of each (the import caps them).
ATTRS = {"id": 100, "author": 150, "name": 300, "at": 40}


def has_suggestions(tree: dict) -> bool:
    stack = [tree]
    while stack:
        node = stack.pop()
        if any(mark.get("type") in MARKS for mark in node.get("marks", ())):
            return True
        stack.extend(node.get("content", ()))
    return False


def rejected(tree: dict) -> dict:
    """The document as if every pending suggestion were rejected: proposed text gone, proposed deletions kept."""
    if not has_suggestions(tree):
        return tree
    return _without(tree)


def _without(node: dict) -> dict:
    if "content" not in node:
        return node
    content: list[dict] = []
    for child in node["content"]:
        marks = child.get("marks") or []
        if child["type"] == "text" and any(mark.get("type") == INSERT for mark in marks):
            continue  # proposed, not agreed: not (yet) part of the text
        if any(mark.get("type") == DELETE for mark in marks):
            child = {**child, "marks": [mark for mark in marks if mark.get("type") != DELETE]}
            if not child["marks"]:
                del child["marks"]
        child = _without(child)
        if (child["type"] == "text" and content and content[-1]["type"] == "text"
                and content[-1].get("marks") == child.get("marks")):
            content[-1] = {**content[-1], "text": content[-1]["text"] + child["text"]}
        else:
            content.append(child)
    out = {key: value for key, value in node.items() if key != "content"}
    if content:
        out["content"] = content
    return out

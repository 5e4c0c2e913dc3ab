"""Making a live document's content equal to an earlier version, as a forward edit.

A restore must not rewind the CRDT (every editor would have to reload) nor
replace the whole document (an edit someone makes meanwhile in a paragraph
the restore has no reason to touch would be lost). So the live document's
XmlFragment is changed in place, block by block: blocks that are the same
in both stay untouched, blocks that differ are deleted and copies of the
version's blocks are inserted in their place. Containers (lists, list
items, quotes) that exist on both sides with the same attributes are
entered rather than replaced, so that changing one list item leaves its
siblings alone. The change is then an ordinary Yjs update that merges with
concurrent edits like any other.
"""

from __future__ import annotations

import json
from difflib import SequenceMatcher

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from .content import fragment_of

Node = XmlElement | XmlText
Parent = XmlFragment | XmlElement


def restore_into(live: Doc, version: Doc) -> int:
    """Change `live` so that its content equals `version`'s; returns how many blocks changed.

    Runs in one transaction of `live`, so the change is a single update.
    """
    with live.transaction(origin="restore"):
        return _sync_children(fragment_of(live), fragment_of(version))


def node_key(node: Node) -> str:
    """A canonical description of a block and everything in it: equal keys, equal blocks."""
    return json.dumps(_describe(node), sort_keys=True, default=str)


def _describe(node: Node):
    if isinstance(node, XmlText):
        chunks = [[chunk if isinstance(chunk, str) else repr(chunk), attrs or {}] for chunk, attrs in node.diff()]
        return ["#text", chunks]
    return [node.tag, dict(node.attributes), [_describe(child) for child in node.children]]


def _sync_children(live: Parent, target: Parent) -> int:
    live_children = list(live.children)
    target_children = list(target.children)
    live_keys = [node_key(child) for child in live_children]
    target_keys = [node_key(child) for child in target_children]
    opcodes = SequenceMatcher(None, live_keys, target_keys, autojunk=False).get_opcodes()
    changed = 0
    # From the end, so that the indices of the operations still to do stay valid.
    for op, i1, i2, j1, j2 in reversed(opcodes):
        if op != "equal":
            changed += _replace_range(live, live_children, target_children, (i1, i2), (j1, j2))
    return changed


def _replace_range(parent: Parent, live_children, target_children, live_range, target_range) -> int:
    """Turn live_children[i1:i2] into copies of target_children[j1:j2], entering shared containers.

    Containers found on both sides, in order (a list that is still a list),
    are paired and synced recursively; what lies between pairs is deleted
    and inserted.
    """
    (i1, i2), (j1, j2) = live_range, target_range
    pairs: list[tuple[int, int]] = []
    next_j = j1
    for i in range(i1, i2):
        for j in range(next_j, j2):
            if _same_container(live_children[i], target_children[j]):
                pairs.append((i, j))
                next_j = j + 1
                break
    changed = 0
    bounds = [(i1 - 1, j1 - 1), *pairs, (i2, j2)]
    for (left_i, left_j), (right_i, right_j) in reversed(list(zip(bounds, bounds[1:]))):
        if (right_i, right_j) != (i2, j2):
            changed += _sync_children(live_children[right_i], target_children[right_j])
        removed = right_i - left_i - 1
        if removed:
            del parent.children[left_i + 1 : right_i]
        for offset, j in enumerate(range(left_j + 1, right_j)):
            _insert_copy(parent, left_i + 1 + offset, target_children[j])
        changed += max(removed, right_j - left_j - 1)
    return changed


def _same_container(a: Node, b: Node) -> bool:
    """Both are the same kind of element holding blocks (not text): worth entering rather than replacing."""
    return (
        isinstance(a, XmlElement)
        and isinstance(b, XmlElement)
        and a.tag == b.tag
        and dict(a.attributes) == dict(b.attributes)
        and not any(isinstance(child, XmlText) for child in a.children)
        and not any(isinstance(child, XmlText) for child in b.children)
    )


def _insert_copy(parent: Parent, index: int, source: Node) -> None:
    """Insert a deep copy of `source` (from another Doc) into `parent` at `index`.

    Built empty and filled once integrated: a preliminary XmlText cannot
    carry formatting, and a preliminary element's content is plain text.
    """
    if isinstance(source, XmlText):
        text = parent.children.insert(index, XmlText())
        for chunk, attrs in source.diff():
            if isinstance(chunk, str):  # Tiptap writes no embeds; anything else has no place here
                text.insert(len(text), chunk, attrs or None)
        return
    element = parent.children.insert(index, XmlElement(source.tag, dict(source.attributes)))
    for position, child in enumerate(source.children):
        _insert_copy(element, position, child)

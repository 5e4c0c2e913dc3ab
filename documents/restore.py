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

Every walk here is iterative (explicit stacks): a client may nest elements
thousands deep, and Python's recursion stops at 1,000.
"""

from __future__ import annotations

import hashlib
import json
from difflib import SequenceMatcher

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from .content import doc_from_state, fragment_of

Node = XmlElement | XmlText
Parent = XmlFragment | XmlElement


def restore_into(live: Doc, version: Doc) -> int:
    """Change `live` so that its content equals `version`'s; returns how many blocks changed.

    Runs in one transaction of `live`, so the change is a single update.
    """
    with live.transaction(origin="restore"):
        changed = 0
        # Containers still to sync (the live one, its children, the version's children):
        # a level's pairs are entered once the level itself is done.
        pending = [(fragment_of(live), _mirror(fragment_of(live)), _mirror(fragment_of(version)))]
        while pending:
            changed += _sync_children(*pending.pop(), pending)
        return changed


# The name restore_state is registered under with the real-time engine (collab.edits).
EDIT = "documents.restore"


def restore_state(live: Doc, version_state: bytes) -> int:
    """The restore as a named edit: run by the document's actor against its live state, in its turn."""
    return restore_into(live, doc_from_state(bytes(version_state)))


class _Block:
    """A node of the Yjs tree with a digest of everything in it: equal keys, equal blocks."""

    __slots__ = ("node", "key", "children", "container")

    def __init__(self, node: Node):
        self.node = node
        self.key = ""
        self.children: list[_Block] = []
        # An element holding blocks, not text: worth entering rather than replacing.
        self.container = False


def _mirror(parent: Parent) -> list[_Block]:
    """The children of `parent`, each with its key, read in one pass (keys bottom-up, Merkle style)."""
    top = [_Block(child) for child in parent.children]
    order: list[_Block] = []
    stack = list(top)
    while stack:
        block = stack.pop()
        order.append(block)
        if isinstance(block.node, XmlElement):
            block.children = [_Block(child) for child in block.node.children]
            block.container = not any(isinstance(child.node, XmlText) for child in block.children)
            stack.extend(block.children)
    for block in reversed(order):  # every block's descendants come after it in `order`
        if isinstance(block.node, XmlText):
            chunks = [[c if isinstance(c, str) else repr(c), a or {}] for c, a in block.node.diff()]
            part = ["#text", chunks]
        else:
            part = [block.node.tag, dict(block.node.attributes), [child.key for child in block.children]]
        block.key = hashlib.blake2b(json.dumps(part, sort_keys=True, default=str).encode(), digest_size=20).hexdigest()
    return top


def _sync_children(live: Parent, live_children: list[_Block], target_children: list[_Block], pending) -> int:
    live_keys = [child.key for child in live_children]
    target_keys = [child.key for child in target_children]
    opcodes = SequenceMatcher(None, live_keys, target_keys, autojunk=False).get_opcodes()
    changed = 0
    # From the end, so that the indices of the operations still to do stay valid.
    for op, i1, i2, j1, j2 in reversed(opcodes):
        if op != "equal":
            changed += _replace_range(live, live_children, target_children, (i1, i2), (j1, j2), pending)
    return changed


def _replace_range(parent: Parent, live_children, target_children, live_range, target_range, pending) -> int:
    """Turn live_children[i1:i2] into copies of target_children[j1:j2], entering shared containers.

    Containers found on both sides, in order (a list that is still a list),
    are paired and added to `pending`, to be synced in turn; what lies
    between pairs is deleted and inserted.
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
            live_block, target_block = live_children[right_i], target_children[right_j]
            pending.append((live_block.node, live_block.children, target_block.children))
        removed = right_i - left_i - 1
        if removed:
            del parent.children[left_i + 1 : right_i]
        for offset, j in enumerate(range(left_j + 1, right_j)):
            _insert_copy(parent, left_i + 1 + offset, target_children[j].node)
        changed += max(removed, right_j - left_j - 1)
    return changed


def _same_container(a: _Block, b: _Block) -> bool:
    """Both are the same kind of element holding blocks (not text): worth entering rather than replacing."""
    return (
        a.container
        and b.container
        and a.node.tag == b.node.tag
        and dict(a.node.attributes) == dict(b.node.attributes)
    )


def _insert_copy(parent: Parent, index: int, source: Node) -> None:
    """Insert a deep copy of `source` (from another Doc) into `parent` at `index`.

    Built empty and filled once integrated: a preliminary XmlText cannot
    carry formatting, and a preliminary element's content is plain text.
    """
    stack = [(parent, index, source)]
    while stack:
        parent, index, source = stack.pop()
        if isinstance(source, XmlText):
            text = parent.children.insert(index, XmlText())
            for chunk, attrs in source.diff():
                if isinstance(chunk, str):  # Tiptap writes no embeds; anything else has no place here
                    text.insert(len(text), chunk, attrs or None)
            continue
        element = parent.children.insert(index, XmlElement(source.tag, dict(source.attributes)))
        # Reversed, so that each child is inserted after its earlier siblings.
        stack.extend((element, position, child) for position, child in reversed(list(enumerate(source.children))))

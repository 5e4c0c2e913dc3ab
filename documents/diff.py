"""Comparing two versions of a document, the way a code review shows a change.

The documents are compared block by block: every *leaf block* (a paragraph,
heading, code block, rule: the blocks that hold text rather than other
blocks) is one row, together with the containers it sits in (list, list
item, quote). Rows are matched with difflib; a block that exists on one
side only is an insertion or a deletion, and a block that was edited is
shown once, with the words inserted and deleted marked inline (<ins>,
<del>), marks (bold, links...) included in what counts as a change.

Everything is rendered by the HTML export renderer (`export.html`), so the
diff escapes exactly as a version's view does; only the diff's own markup
(rows, <ins>, <del>, list wrappers) is added here.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from pycrdt import Doc

from .export import document_tree
from .export.html import render_fragment

# Two edited blocks that keep less than this share of the shorter one's text
# are shown as one removed and one added block, rather than as a single
# block full of <del> and <ins>.
PAIR_SIMILARITY = 0.5
# Unchanged blocks shown around a change; longer unchanged runs are folded.
CONTEXT = 2

_LISTS = ("bulletList", "orderedList")
_INLINE = ("text", "hardBreak")
# Words, runs of whitespace, and single other characters (punctuation).
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
# Stands for a block's content while its wrapper is rendered; a private-use
# character that neither the renderer nor html.escape changes.
_PLACEHOLDER = "\ue000"


@dataclass(frozen=True, slots=True)
class Frame:
    """A container around a leaf block: a list, a list item, a quote."""

    # The ProseMirror node type (bulletList, listItem, blockquote...).
    type: str
    # Its attributes (e.g. an ordered list's start), as in the document.
    attrs: tuple = ()
    # For a list item: its number in an ordered list (1-based, from the list's start).
    number: int | None = None
    # For a list item: this leaf is the item's first block (the one that shows its bullet).
    first: bool = True


@dataclass(frozen=True, slots=True)
class Leaf:
    # Containers from the outermost in.
    frames: tuple[Frame, ...]
    # The leaf block as ProseMirror JSON, inline content included.
    node: dict = field(compare=False)
    # What matching compares: the containers' types and attributes, and the block.
    key: str = ""


@dataclass(frozen=True, slots=True)
class Row:
    # "same", "added", "removed" or "changed".
    kind: str
    # The block's escaped markup; for "changed", the new block with <ins>/<del> inside.
    html: str
    # Text inserted in this block (all of it for an added block).
    inserted: tuple[str, ...] = ()
    # Text deleted from this block (all of it for a removed block).
    deleted: tuple[str, ...] = ()
    # The block's text as (text, "equal" | "insert" | "delete") runs, in reading order: what a
    # client renders its own way (the REST diff).
    runs: tuple[tuple[str, str], ...] = ()
    # The block's ProseMirror node type (paragraph, heading...).
    type: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    # Rows shown one after another.
    rows: tuple[Row, ...]
    # Unchanged rows far from any change: shown collapsed.
    folded: bool = False


@dataclass(frozen=True)
class Comparison:
    rows: tuple[Row, ...]

    @property
    def added(self) -> int:
        return sum(row.kind == "added" for row in self.rows)

    @property
    def removed(self) -> int:
        return sum(row.kind == "removed" for row in self.rows)

    @property
    def changed(self) -> int:
        return sum(row.kind == "changed" for row in self.rows)

    @property
    def identical(self) -> bool:
        return all(row.kind == "same" for row in self.rows)

    @property
    def inserted(self) -> list[str]:
        return [text for row in self.rows for text in row.inserted]

    @property
    def deleted(self) -> list[str]:
        return [text for row in self.rows for text in row.deleted]

    def sections(self, context: int = CONTEXT) -> list[Section]:
        """The rows, with unchanged runs longer than 2×context+1 folded but for `context` rows at each end."""
        sections: list[Section] = []
        run: list[Row] = []

        def end_run(at_start: bool, at_end: bool):
            head = 0 if at_start else context
            tail = 0 if at_end else context
            if len(run) > head + tail + 1:
                cut = len(run) - tail
                if head:
                    sections.append(Section(tuple(run[:head])))
                sections.append(Section(tuple(run[head:cut]), folded=True))
                if tail:
                    sections.append(Section(tuple(run[cut:])))
            elif run:
                sections.append(Section(tuple(run)))
            run.clear()

        for row in self.rows:
            if row.kind == "same":
                run.append(row)
                continue
            end_run(at_start=not sections, at_end=False)
            sections.append(Section((row,)))
        end_run(at_start=not sections, at_end=True)
        if len(sections) == 1 and sections[0].folded:
            return [Section(sections[0].rows)]  # nothing changed: show the document
        return sections


def compare(old: Doc | bytes | dict, new: Doc | bytes | dict) -> Comparison:
    """Compare two versions (pycrdt Docs, encoded states, or ProseMirror JSON trees)."""
    a, b = leaves(_tree(old)), leaves(_tree(new))
    rows: list[Row] = []
    matcher = SequenceMatcher(None, [leaf.key for leaf in a], [leaf.key for leaf in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend(Row("same", _render(leaf), runs=_runs(_tokens(leaf.node), "equal"), type=leaf.node["type"])
                        for leaf in b[j1:j2])
        else:
            rows.extend(_replace(a[i1:i2], b[j1:j2]))
    return Comparison(tuple(rows))


def leaves(tree: dict) -> list[Leaf]:
    """The document's leaf blocks in reading order, each with its containers."""
    out: list[Leaf] = []

    def walk(nodes, frames: tuple[Frame, ...]):
        for node in nodes:
            content = node.get("content", ())
            if node["type"] in _LISTS:
                attrs = _attrs(node)
                start = node.get("attrs", {}).get("start", 1) if node["type"] == "orderedList" else 1
                start = start if isinstance(start, int) else 1
                for index, item in enumerate(content):
                    number = start + index if node["type"] == "orderedList" else None
                    walk_item(item, frames + (Frame(node["type"], attrs),), number)
            elif content and all(child["type"] not in _INLINE for child in content):
                walk(content, frames + (Frame(node["type"], _attrs(node)),))
            else:
                out.append(Leaf(frames, node, _key(frames, node)))

    def walk_item(item, frames, number):
        before = len(out)
        frame = Frame(item["type"], _attrs(item), number)
        children = item.get("content", ())
        if children and all(child["type"] not in _INLINE for child in children):
            walk(children, frames + (frame,))
        else:  # an item holding text directly: itself the leaf
            out.append(Leaf(frames + (frame,), {**item, "type": "paragraph"}, _key(frames + (frame,), item)))
        # Later blocks of the same item are shown without a bullet of their own.
        depth = len(frames)
        for position in range(before + 1, len(out)):
            leaf = out[position]
            frames_of = list(leaf.frames)
            frames_of[depth] = Frame(frame.type, frame.attrs, frame.number, first=False)
            out[position] = Leaf(tuple(frames_of), leaf.node, leaf.key)

    walk(tree.get("content", ()), ())
    return out


def _tree(source) -> dict:
    return source if isinstance(source, dict) else document_tree(source)


def _attrs(node: dict) -> tuple:
    return tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in node.get("attrs", {}).items()))


def _key(frames: tuple[Frame, ...], node: dict) -> str:
    # Item numbers and "first" are presentation: inserting an item must not change every later one.
    return json.dumps([[(f.type, f.attrs) for f in frames], node], sort_keys=True)


# --- matching edited blocks ---------------------------------------------------------


def _replace(old: list[Leaf], new: list[Leaf]) -> list[Row]:
    """Rows for a run of old blocks replaced by a run of new ones.

    Pairs each old block with the first similar enough new block after the
    last pair (the order is kept); the rest are removals and additions.
    """
    rows: list[Row] = []
    next_new = 0
    for leaf in old:
        match = None
        for index in range(next_new, len(new)):
            if _pairable(leaf, new[index]):
                tokens = _word_diff(leaf.node, new[index].node)
                if tokens.ratio >= PAIR_SIMILARITY:
                    match = index, tokens
                    break
        if match is None:
            rows.append(_whole(leaf, "removed"))
            continue
        index, tokens = match
        rows.extend(_whole(added, "added") for added in new[next_new:index])
        rows.append(_changed(new[index], tokens))
        next_new = index + 1
    rows.extend(_whole(added, "added") for added in new[next_new:])
    return rows


def _pairable(a: Leaf, b: Leaf) -> bool:
    return (
        a.node["type"] == b.node["type"]
        and a.node.get("attrs") == b.node.get("attrs")
        and [(f.type, f.attrs) for f in a.frames] == [(f.type, f.attrs) for f in b.frames]
        and bool(a.node.get("content") or b.node.get("content"))
    )


def _whole(leaf: Leaf, kind: str) -> Row:
    """A block only one side has: all of it inserted (<ins>) or deleted (<del>)."""
    tag = "ins" if kind == "added" else "del"
    tokens = _tokens(leaf.node)
    if tokens:
        markup = _render(leaf, f"<{tag}>{_inline(tokens)}</{tag}>")
    else:  # a rule, an empty paragraph: the block itself is what changed
        markup = f'<{tag} class="block">{_render(leaf)}</{tag}>'
    text = "".join(token.text for token in tokens).strip()
    texts = (text,) if text else ()
    return Row(kind, markup, inserted=texts if kind == "added" else (), deleted=texts if kind == "removed" else (),
               runs=_runs(tokens, "insert" if kind == "added" else "delete"), type=leaf.node["type"])


def _changed(leaf: Leaf, diff: _WordDiff) -> Row:
    parts: list[str] = []
    inserted: list[str] = []
    deleted: list[str] = []
    runs: list[tuple[str, str]] = []
    for op, removed, added in diff.segments:
        if op == "equal":
            parts.append(_inline(added))
            runs.extend(_runs(added, "equal"))
            continue
        if removed:
            parts.append(f"<del>{_inline(removed)}</del>")
            deleted.append("".join(t.text for t in removed).strip())
            runs.extend(_runs(removed, "delete"))
        if added:
            parts.append(f"<ins>{_inline(added)}</ins>")
            inserted.append("".join(t.text for t in added).strip())
            runs.extend(_runs(added, "insert"))
    return Row(
        "changed",
        _render(leaf, "".join(parts)),
        inserted=tuple(text for text in inserted if text),
        deleted=tuple(text for text in deleted if text),
        runs=tuple(runs),
        type=leaf.node["type"],
    )


def _runs(tokens: list[_Token], op: str) -> tuple[tuple[str, str], ...]:
    """The tokens' text as one run (marks aside: the REST diff says what changed, not how it looks)."""
    text = "".join(token.text for token in tokens)
    return ((text, op),) if text else ()


# --- word-level diff inside a block -------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    # The word, whitespace run or punctuation character ("\n" for a hard break).
    text: str
    # The inline node it came from, without its text (type and marks).
    style: str

    def node(self) -> dict:
        style = json.loads(self.style)
        if style["type"] == "hardBreak":
            return style
        return {**style, "text": self.text}


@dataclass(frozen=True)
class _WordDiff:
    # ("equal" | "change", old tokens, new tokens), in order.
    segments: list[tuple[str, list[_Token], list[_Token]]]
    # Share of the shorter block's text that the other keeps, 0 to 1.
    ratio: float


def _tokens(node: dict) -> list[_Token]:
    tokens: list[_Token] = []
    for child in node.get("content", ()):
        style = json.dumps({k: v for k, v in child.items() if k not in ("text", "content")}, sort_keys=True)
        if child["type"] == "text":
            tokens.extend(_Token(word, style) for word in _TOKEN.findall(child.get("text", "")))
        elif child["type"] == "hardBreak":
            tokens.append(_Token("\n", style))
        else:
            tokens.extend(_tokens(child))
    return tokens


def _word_diff(old: dict, new: dict) -> _WordDiff:
    a, b = _tokens(old), _tokens(new)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    segments: list[tuple[str, list[_Token], list[_Token]]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        kind = "equal" if op == "equal" else "change"
        if segments and segments[-1][0] == kind == "change":
            segments[-1][1].extend(a[i1:i2])
            segments[-1][2].extend(b[j1:j2])
        else:
            segments.append((kind, a[i1:i2], b[j1:j2]))
    return _WordDiff(_absorb_gaps(segments), _kept(a, b, matcher))


def _kept(a: list[_Token], b: list[_Token], matcher: SequenceMatcher) -> float:
    """How much of the shorter block's text (whitespace aside) is still there, 0 to 1.

    Relative to the shorter side, so that a paragraph that grew by a
    sentence still reads as one edited paragraph.
    """
    def size(tokens):
        return sum(len(t.text) for t in tokens if not t.text.isspace())

    kept = sum(size(a[block.a : block.a + block.size]) for block in matcher.get_matching_blocks())
    return kept / max(1, min(size(a), size(b)))


def _absorb_gaps(segments):
    """Fold whitespace-only equal runs between two changes into them.

    "brown fox" → "red dog" reads as one change, not as "brown"→"red",
    an unchanged space, and "fox"→"dog".
    """
    out = []
    for segment in segments:
        if (
            segment[0] == "change"
            and len(out) >= 2
            and out[-1][0] == "equal"
            and out[-2][0] == "change"
            and all(t.text.isspace() for t in out[-1][2])
        ):
            gap = out.pop()
            previous = out.pop()
            out.append(("change", previous[1] + gap[1] + segment[1], previous[2] + gap[2] + segment[2]))
        else:
            out.append(segment)
    return out


# --- rendering ----------------------------------------------------------------------


def _inline(tokens: list[_Token]) -> str:
    """Escaped markup of a run of inline content, marks included."""
    nodes: list[dict] = []
    for token in tokens:
        node = token.node()
        if nodes and node["type"] == "text" == nodes[-1]["type"] and node.get("marks") == nodes[-1].get("marks"):
            nodes[-1] = {**nodes[-1], "text": nodes[-1]["text"] + node["text"]}
        else:
            nodes.append(node)
    if not nodes:
        return ""
    markup = render_fragment({"type": "doc", "content": [{"type": "paragraph", "content": nodes}]})
    if not (markup.startswith("<p>") and markup.endswith("</p>")):
        raise ValueError(f"expected the renderer to give one <p> for inline content, got {markup[:80]!r}")
    return markup[3:-4]


def _render(leaf: Leaf, content_html: str | None = None) -> str:
    """The leaf block in its containers; `content_html` replaces its inline content if given."""
    node = leaf.node
    if content_html is not None:
        node = {**node, "content": [{"type": "text", "text": _PLACEHOLDER}]}
    markup = render_fragment({"type": "doc", "content": [node]})
    if content_html is not None:
        markup = markup.replace(_PLACEHOLDER, content_html)
    for frame in reversed(leaf.frames):
        markup = _wrap(frame, markup)
    return markup


def _wrap(frame: Frame, inner: str) -> str:
    if frame.type == "bulletList":
        return f"<ul>{inner}</ul>"
    if frame.type == "orderedList":
        return f"<ol>{inner}</ol>"
    if frame.type == "listItem":
        value = f' value="{frame.number}"' if frame.number is not None else ""
        # A later block of an item: no bullet or number of its own.
        continued = "" if frame.first else ' class="continued"'
        return f"<li{value}{continued}>{inner}</li>"
    if frame.type == "blockquote":
        return f"<blockquote>{inner}</blockquote>"
    return f'<div class="block-{html.escape(frame.type)}">{inner}</div>'

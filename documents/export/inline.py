"""Turning a flat run of ProseMirror inline nodes into properly nested markup.

ProseMirror keeps marks as a set on each text node; HTML and Markdown need
them as nested open/close pairs. `steps` keeps a stack of open marks and,
for each node, says which to close and which to open before it. A mark that
goes on for longer is opened outside one that stops sooner, so that
bold("a") + bold+italic("b") + bold("c") becomes <strong>a<em>b</em>c</strong>
and marks are closed and reopened as little as possible; `code` is always
innermost, as Markdown needs (a code span holds no markup).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .tree import mark_rank

_INNERMOST = "code"


@dataclass(frozen=True, slots=True)
class Step:
    # Marks to close before the node, innermost first.
    close: tuple[dict, ...]
    # Marks to open before the node, outermost first.
    open: tuple[dict, ...]
    # The inline node (text, hardBreak...), or None if the step only closes marks.
    node: dict | None


def steps(content: Iterable[dict], keep: Callable[[dict], dict | None] = lambda mark: mark) -> Iterator[Step]:
    """Steps for a block's inline content; the last one closes whatever is still open.

    `keep(mark)` returns the mark to render (possibly changed) or None to
    drop it, e.g. a link whose href is unsafe, or a mark a format lacks.
    Non-text nodes (hard breaks) close every open mark.
    """
    nodes = list(content)
    marks = [
        [m for m in map(keep, node.get("marks", ())) if m is not None] if node["type"] == "text" else []
        for node in nodes
    ]
    stack: list[dict] = []
    for index, node in enumerate(nodes):
        if node["type"] != "text":
            if stack:
                yield Step(tuple(reversed(stack)), (), None)
                stack = []
            yield Step((), (), node)
            continue
        wanted = marks[index]
        kept = 0
        while kept < len(stack) and stack[kept] in wanted:
            kept += 1
        opening = [m for m in wanted if m not in stack[:kept]]
        if opening and any(m["type"] == _INNERMOST for m in stack[:kept]):
            kept = next(i for i, m in enumerate(stack) if m["type"] == _INNERMOST)
            opening = [m for m in wanted if m not in stack[:kept]]
        opening.sort(key=lambda m: (m["type"] == _INNERMOST, -_extent(marks, index, m), mark_rank(m)))
        closing = tuple(reversed(stack[kept:]))
        stack = stack[:kept] + opening
        yield Step(closing, tuple(opening), node)
    yield Step(tuple(reversed(stack)), (), None)


def _extent(marks: list[list[dict]], index: int, mark: dict) -> int:
    """For how many nodes from `index` on the mark goes on without a break."""
    end = index
    while end < len(marks) and mark in marks[end]:
        end += 1
    return end - index

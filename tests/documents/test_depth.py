"""Documents nested far deeper than any editor makes them: every reader still answers.

An editor can send XML elements nested thousands deep (issue 11: 1,200 deep
made every export and snapshot fail with RecursionError). Everything that
reads a document's tree must walk it without recursing per level, or cap the
depth it builds (`export.tree.MAX_DEPTH`), keeping the text.
"""

import json

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from documents import export
from documents.content import FRAGMENT, fragment_of, preview_text
from documents.diff import compare
from documents.export.tree import MAX_DEPTH, document_tree
from documents.restore import restore_into
from tests.support.exports import docx_paragraphs, pdf_text

DEPTHS = [1_200, 20_000]


def deep_doc(depth: int, text: str = "deep text", tag: str = "blockquote") -> Doc:
    """A paragraph, then `depth` nested elements around `text`, then a paragraph."""
    doc = Doc()
    fragment = doc.get(FRAGMENT, type=XmlFragment)
    with doc.transaction():  # one transaction: building it level by level is quadratic otherwise
        fragment.children.append(XmlElement("paragraph", contents=[XmlText("before")]))
        element = fragment.children.append(XmlElement(tag))
        for _ in range(depth):
            element = element.children.append(XmlElement(tag))
        element.children.append(XmlElement("paragraph", contents=[XmlText(text)]))
        fragment.children.append(XmlElement("paragraph", contents=[XmlText("after")]))
    return doc


def docx_text(data: bytes) -> str:
    return "\n".join(text for _style, text in docx_paragraphs(data))


def tree_depth(tree: dict) -> int:
    deepest, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.get("content", ()))
    return deepest


@pytest.fixture(scope="module", params=DEPTHS, ids=lambda d: f"depth{d}")
def deep(request):
    return deep_doc(request.param)


def test_preview_keeps_the_text_of_any_depth(deep):
    assert preview_text(deep.get_update()) == "before deep text after"


def test_the_tree_is_capped_and_keeps_the_text(deep):
    tree = document_tree(deep)
    assert tree_depth(tree) <= MAX_DEPTH + 2, "the JSON tree must stay shallow enough for every renderer"
    assert "deep text" in json.dumps(tree), "text below the cap must be kept"
    assert [tree["content"][0], tree["content"][-1]] == [
        {"type": "paragraph", "content": [{"type": "text", "text": "before"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "after"}]},
    ], "blocks around the deep one are unchanged"


@pytest.mark.parametrize("name", export.formats())
def test_every_export_format_renders_it(deep, name):
    out = export.get(name).render_state(deep.get_update(), title="deep")
    out = {"pdf": pdf_text, "docx": docx_text}.get(name, lambda text: text)(out)
    for words in ("before", "deep text", "after"):
        assert words in out, f"{name}: expected {words!r} in the export"


def test_a_shallow_nesting_is_not_flattened():
    tree = document_tree(deep_doc(MAX_DEPTH - 5, tag="blockquote"))
    assert tree_depth(tree) == MAX_DEPTH - 5 + 3, "nesting under the cap is kept as it is"


def test_diff_of_deep_versions_shows_the_change():
    comparison = compare(deep_doc(20_000), deep_doc(20_000, text="other text"))
    assert "deep" in comparison.deleted[0] and "other" in comparison.inserted[0], comparison.rows


@pytest.mark.parametrize("depth", DEPTHS)
def test_restore_into_and_out_of_a_deep_document(depth):
    live = Doc()
    with live.transaction():
        fragment_of(live).children.append(XmlElement("paragraph", contents=[XmlText("live")]))
    assert restore_into(live, deep_doc(depth)) > 0
    assert preview_text(live.get_update()) == "before deep text after", "restoring a deep version copies it whole"
    restore_into(live, deep_doc(depth, text="changed deep inside"))
    assert preview_text(live.get_update()) == "before changed deep inside after", "a change deep inside is restored"
    shallow = Doc()
    with shallow.transaction():
        fragment_of(shallow).children.append(XmlElement("paragraph", contents=[XmlText("flat")]))
    restore_into(live, shallow)
    assert preview_text(live.get_update()) == "flat", "restoring a shallow version removes the deep tree"

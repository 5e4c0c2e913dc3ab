"""Reading Tiptap's Yjs XmlFragment as ProseMirror JSON (documents.export.tree)."""

from hypothesis import HealthCheck, given, settings
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from documents.export import document_tree
from tests.documents.export import strategies
from tests.documents.export.sample import SAMPLE
from tests.documents.tiptap import build, heading, paragraph, text


def test_the_sample_reads_back_as_the_json_it_was_written_from():
    tree = document_tree(build(SAMPLE))
    assert tree == {"type": "doc", "content": SAMPLE}, "Yjs -> JSON must invert what y-prosemirror writes"


def test_state_bytes_and_doc_give_the_same_tree():
    doc = build(SAMPLE)
    assert document_tree(doc.get_update()) == document_tree(doc), "an encoded state must read like its Doc"


def test_numbers_that_yjs_returns_as_floats_become_ints():
    tree = document_tree(build([heading(2, "x")]))
    level = tree["content"][0]["attrs"]["level"]
    assert level == 2 and isinstance(level, int), f"expected int 2, got {level!r}"


def test_only_trailing_empty_paragraphs_are_dropped():
    doc = build([paragraph(), paragraph("a"), paragraph(), paragraph("b"), paragraph(), paragraph()])
    types = [(n["type"], "content" in n) for n in document_tree(doc)["content"]]
    assert types == [("paragraph", False), ("paragraph", True), ("paragraph", False), ("paragraph", True)], types


def test_an_empty_document_has_no_content():
    assert document_tree(Doc()) == {"type": "doc", "content": []}
    assert document_tree(b"") == {"type": "doc", "content": []}


def test_marks_come_in_canonical_order_whatever_yjs_order():
    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    p = XmlElement("paragraph")
    fragment.children.append(p)
    t = XmlText()
    p.children.append(t)
    t.insert(0, "x", {"code": {}, "italic": {}, "bold": {}, "link": {"href": "/a"}})
    marks = [m["type"] for m in document_tree(doc)["content"][0]["content"][0]["marks"]]
    assert marks == ["link", "bold", "italic", "code"], marks


def test_y_prosemirror_bookkeeping_is_dropped():
    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    p = XmlElement("paragraph", {"ychange": {"user": "x"}})
    fragment.children.append(p)
    t = XmlText()
    p.children.append(t)
    # An overlapping mark is stored as "<name>--<hash>"; a null value means "removed".
    t.insert(0, "x", {"comment--abcdEF12": {"id": 1.0}, "bold": None})
    assert document_tree(doc)["content"] == [
        paragraph(text("x", {"type": "comment", "attrs": {"id": 1}}))
    ]


def test_text_directly_in_the_fragment_is_wrapped_in_a_paragraph():
    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    fragment.children.append(XmlText("loose"))
    fragment.children.append(XmlElement("paragraph", contents=[XmlText("p")]))
    assert document_tree(doc)["content"] == [paragraph("loose"), paragraph("p")]


def test_adjacent_runs_with_equal_marks_are_merged():
    doc = build([paragraph(text("a", "bold"), text("b", "bold"))])
    assert document_tree(doc)["content"][0]["content"] == [text("ab", "bold")]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(strategies.documents)
def test_any_tiptap_document_round_trips_through_yjs(tree):
    expected = dict(tree, content=list(tree["content"]))
    while expected["content"] and expected["content"][-1] == {"type": "paragraph"}:
        expected["content"].pop()
    assert document_tree(build(tree["content"])) == expected

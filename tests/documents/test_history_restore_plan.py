"""Restore planning (documents/restore.py): the live document is changed block by block, in place."""

from pycrdt import Doc

from documents.content import fragment_of
from documents.export import document_tree
from documents.restore import restore_into
from tests.documents.tiptap import build, bullet_list, heading, link, node, paragraph, text


def copy(doc: Doc) -> Doc:
    other = Doc()
    other.apply_update(doc.get_update())
    return other


VERSION = [
    heading(1, "Plan"),
    paragraph("alpha ", text("bold", "bold"), " and ", text("a link", link("https://example.com"))),
    paragraph("bravo"),
    bullet_list([paragraph("one")], [paragraph("two")], [paragraph("three")]),
    node("codeBlock", "print(1)", language="python"),
]


def edited_live() -> tuple[Doc, Doc]:
    """(the version, a live document that started from it and was edited since)."""
    version = build(VERSION)
    live = copy(version)
    fragment = fragment_of(live)
    with live.transaction():
        fragment.children[1].children[0].insert(0, "CHANGED ")
        del fragment.children[2]  # bravo
        fragment.children[2].children[1].children[0].children[0].insert(3, " and a half")  # "two"
        fragment.children[0].attributes["level"] = 2.0
    return version, live


def test_the_live_document_ends_equal_to_the_version_marks_and_attributes_included():
    version, live = edited_live()
    changed = restore_into(live, version)
    assert document_tree(live) == document_tree(version), "after a restore the content is the version's"
    assert changed == 4, f"heading, alpha paragraph, bravo and the list's second item differ; got {changed}"
    assert restore_into(live, version) == 0, "restoring again changes nothing"


def test_a_concurrent_edit_in_an_untouched_block_survives_the_restore():
    version, live = edited_live()
    # Someone else, who has the same live state, edits "three" and the code block meanwhile.
    other = copy(live)
    before = other.get_state()
    items = fragment_of(other).children[2]
    with other.transaction():
        items.children[2].children[0].children[0].insert(5, "!")
        fragment_of(other).children[3].children[0].insert(0, "# ")
    concurrent = other.get_update(before)

    before_restore = live.get_state()
    restore_into(live, version)
    restore = live.get_update(before_restore)
    live.apply_update(concurrent)
    other.apply_update(restore)

    expected = build(VERSION[:3] + [bullet_list([paragraph("one")], [paragraph("two")], [paragraph("three!")]),
                                    node("codeBlock", "# print(1)", language="python")])
    assert document_tree(live) == document_tree(other), "both sides converge"
    assert document_tree(live) == document_tree(expected), (
        "the restore left the untouched list item and code block alone, so the concurrent edits are kept"
    )


def test_only_differing_blocks_are_replaced():
    version, live = edited_live()
    fragment = fragment_of(live)
    untouched = [fragment.children[3], fragment.children[2].children[0], fragment.children[2]]
    restore_into(live, version)
    fragment = fragment_of(live)
    assert fragment.children[4] == untouched[0], "the code block is the same shared object, not a copy"
    assert fragment.children[3] == untouched[2], "the list is entered, not replaced"
    assert fragment.children[3].children[0] == untouched[1], "its unchanged first item is the same object"


def test_restoring_an_empty_version_empties_the_document():
    _, live = edited_live()
    restore_into(live, Doc())
    assert document_tree(live) == {"type": "doc", "content": []}

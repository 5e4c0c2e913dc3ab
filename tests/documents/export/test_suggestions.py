"""Suggestion marks (issue 20) in the server's content model: the import keeps them as the editor's schema
(frontend/js/content.js, loaded by Tiptap in Node) holds them; `suggestions.rejected` for the text formats."""

from documents.export.suggestions import rejected
from documents.importing.schema import Notes, normalize
from tests.documents.export.tiptap_node import shape, tiptap_load


def mark(kind, **attrs):
    return {"type": kind, "attrs": attrs}


def para(*content):
    return {"type": "doc", "content": [{"type": "paragraph", "content": list(content)}]}


def text(value, *marks):
    node = {"type": "text", "text": value}
    if marks:
        node["marks"] = list(marks)
    return node


FULL = {"id": "s1", "author": "bob", "name": "Bob", "at": "2026-12-03T19:00:00Z"}


def test_the_import_fits_suggestion_marks_to_the_editor_schema_and_tiptap_loads_them():
    notes = Notes()
    fitted = normalize(para(
        text("kept ", mark("suggestionInsert", **FULL), {"type": "bold"}),
        # No id: not a suggestion anyone can act on; the text stays.
        text("no id ", mark("suggestionDelete", author="bob")),
        # Odd attributes: strings only, bounded.
        text("odd ", mark("suggestionDelete", id="s2", author=7, name="N" * 1000, at=None, extra="x")),
        # Two of a kind on one text (ProseMirror holds one): the innermost.
        text("twice ", mark("suggestionInsert", id="a"), mark("suggestionInsert", id="b")),
        # Tiptap's code mark excludes every other.
        text("code", mark("suggestionInsert", **FULL), {"type": "code"}),
    ), notes)
    assert fitted == para(
        text("kept ", mark("suggestionInsert", **FULL), {"type": "bold"}),
        text("no id "),
        text("odd ", mark("suggestionDelete", id="s2", author="", name="N" * 300, at="")),
        text("twice ", mark("suggestionInsert", id="b", author="", name="", at="")),
        text("code", {"type": "code"}),
    )
    assert notes.messages() == ["1 kind of formatting the editor lacks dropped (its text kept)"]
    [loaded] = tiptap_load([fitted])
    assert "error" not in loaded, loaded
    assert shape(loaded["ok"]) == shape(fitted)
    # Tiptap keeps every attribute as the import wrote it.
    loaded_attrs = [m["attrs"] for node in loaded["ok"]["content"][0]["content"] for m in node.get("marks", ())
                    if m["type"].startswith("suggestion")]
    assert loaded_attrs == [FULL, {"id": "s2", "author": "", "name": "N" * 300, "at": ""},
                            {"id": "b", "author": "", "name": "", "at": ""}]


def test_rejected_drops_proposed_text_keeps_proposed_deletions_and_leaves_other_documents_alone():
    plain = para(text("nothing pending"))
    assert rejected(plain) is plain
    tree = {"type": "doc", "content": [
        {"type": "paragraph", "content": [text("a"), text("b", mark("suggestionDelete", **FULL)), text("c")]},
        {"type": "paragraph", "content": [text("all new", mark("suggestionInsert", **FULL))]},
    ]}
    assert rejected(tree) == {"type": "doc", "content": [
        {"type": "paragraph", "content": [text("abc")]},
        {"type": "paragraph"},
    ]}

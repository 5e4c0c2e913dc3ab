"""The comparison of two versions (documents/diff.py): blocks, then words inside edited blocks."""

from documents.diff import compare
from tests.documents.tiptap import build, bullet_list, heading, link, node, ordered_list, paragraph, text


def kinds(comparison):
    return [row.kind for row in comparison.rows]


def test_marks_exactly_the_inserted_and_deleted_words():
    old = build([heading(1, "Plan"), paragraph("The quick brown fox jumps over the lazy dog.")])
    new = build([heading(1, "Plan"), paragraph("The quick red fox leaps over the lazy dog today.")])
    comparison = compare(old, new)
    assert kinds(comparison) == ["same", "changed"], "the heading is unchanged, the paragraph edited"
    assert comparison.deleted == ["brown", "jumps"], f"expected 'brown' and 'jumps' deleted, got {comparison.deleted}"
    assert comparison.inserted == ["red", "leaps", "today"], f"expected 3 insertions, got {comparison.inserted}"
    row = comparison.rows[1]
    assert row.html == (
        "<p>The quick <del>brown</del><ins>red</ins> fox <del>jumps</del><ins>leaps</ins> over the lazy dog"
        "<ins> today</ins>.</p>"
    ), f"unexpected markup: {row.html}"


def test_neighbouring_word_changes_read_as_one_change():
    comparison = compare(build([paragraph("the quick brown fox jumps")]), build([paragraph("the quick red dog jumps")]))
    assert comparison.deleted == ["brown fox"] and comparison.inserted == ["red dog"], (
        f"a space between two changed words belongs to the change, got {comparison.deleted} / {comparison.inserted}"
    )


def test_added_and_removed_blocks_are_whole_rows():
    old = build([paragraph("one"), paragraph("two"), paragraph("three")])
    new = build([paragraph("one"), paragraph("three"), node("horizontalRule"), paragraph("four")])
    comparison = compare(old, new)
    assert kinds(comparison) == ["same", "removed", "same", "added", "added"], kinds(comparison)
    assert comparison.rows[1].html == "<p><del>two</del></p>"
    assert comparison.rows[3].html == '<ins class="block"><hr></ins>'
    assert comparison.inserted == ["four"] and comparison.deleted == ["two"]


def test_a_rewritten_block_is_a_removal_and_an_addition_not_a_mess_of_words():
    comparison = compare(build([paragraph("Meeting on Monday")]), build([paragraph("Lunch is served at noon")]))
    assert kinds(comparison) == ["removed", "added"], kinds(comparison)


def test_a_changed_list_item_is_one_row_in_its_list():
    old = build([bullet_list([paragraph("milk")], [paragraph("eggs")], [paragraph("flour")])])
    new = build([bullet_list([paragraph("milk")], [paragraph("brown eggs")], [paragraph("flour")])])
    comparison = compare(old, new)
    assert kinds(comparison) == ["same", "changed", "same"], "only the edited item differs"
    assert comparison.rows[1].html == "<ul><li><p><ins>brown </ins>eggs</p></li></ul>"


def test_ordered_items_keep_their_numbers():
    comparison = compare(build([ordered_list([paragraph("a")], [paragraph("b")], start=3)]),
                         build([ordered_list([paragraph("a")], [paragraph("b")], [paragraph("c")], start=3)]))
    assert [row.html for row in comparison.rows] == [
        '<ol><li value="3"><p>a</p></li></ol>',
        '<ol><li value="4"><p>b</p></li></ol>',
        '<ol><li value="5"><p><ins>c</ins></p></li></ol>',
    ]


def test_formatting_counts_as_a_change():
    comparison = compare(build([paragraph("make it bold now")]),
                         build([paragraph("make it ", text("bold", "bold"), " now")]))
    assert comparison.rows[0].html == "<p>make it <del>bold</del><ins><strong>bold</strong></ins> now</p>"

    level = compare(build([heading(1, "Title")]), build([heading(2, "Title")]))
    assert kinds(level) == ["removed", "added"], "a heading's level is part of the block"


def test_everything_shown_is_escaped_and_unsafe_links_are_dropped():
    old = build([paragraph("x")])
    new = build([paragraph("x <img src=x onerror=alert(1)> ", text("click", link("javascript:alert(1)")))])
    markup = "".join(row.html for row in compare(old, new).rows)
    assert "<img" not in markup and "&lt;img src=x onerror=alert(1)&gt;" in markup
    assert "javascript:" not in markup and "click" in markup, "the link's text stays, its unsafe target goes"


def test_long_unchanged_stretches_are_folded_around_changes():
    blocks = [paragraph(f"block {n}") for n in range(20)]
    edited = blocks[:10] + [paragraph("block 10 edited")] + blocks[11:]
    sections = compare(build(blocks), build(edited)).sections(context=2)
    shape = [(section.folded, len(section.rows)) for section in sections]
    assert shape == [(True, 8), (False, 2), (False, 1), (False, 2), (True, 7)], shape

    unchanged = compare(build(blocks), build(blocks))
    assert unchanged.identical and [s.folded for s in unchanged.sections()] == [False], "no change: the whole document"

"""documents.search's pure parts: what a query searches for, and how a marked snippet is cut into parts."""

from documents import search


def test_a_query_is_its_words_lower_case_without_syntax_or_repeats():
    assert search.terms('Zebra  "crossing" -road OR zebra* a_b') == ["zebra", "crossing", "road", "or", "a", "b"]
    assert search.terms("!!! ' \" & | : * ( )") == []
    assert search.terms("Café 東京") == ["café", "東京"]
    assert len(search.terms(" ".join(f"w{i}" for i in range(50)))) == search.MAX_TERMS


def test_text_cannot_forge_a_highlight():
    forged = f"x{search.MARK_START}y{search.MARK_END}z{search.LESS_THAN}\x00"
    assert search.clean(forged) == "xyz"


def test_a_marked_snippet_becomes_plain_parts_in_order():
    s, e = search.MARK_START, search.MARK_END
    assert search.parts(f"The {s}<b>zebra{e} & {s}fox{e}") == [
        ("The ", False), ("<b>zebra", True), (" & ", False), ("fox", True)]
    assert search.parts("no match here") == [("no match here", False)]


def test_positions_only_grow_and_a_snapshot_is_past_the_log_rows_it_covers():
    assert search.position(5, snapshot=False) < search.position(5, snapshot=True) < search.position(6, snapshot=False)

"""Full-text search over documents: PostgreSQL full-text search in production, SQLite FTS5 embedded.

One small interface, whatever the database:

- `matching(user, query)`: the documents the user has a role on whose title
  and text hold every word of `query` (each as a prefix, so that "collab"
  finds "collaboration"), title matches first, then by rank. A queryset: the
  role filter and the match are one SQL query, so a document the user lost
  access to is never found.
- `snippets(query, documents)`: for a page of those, the text around the
  match as [(text, is_match), ...] parts. Plain text parts, never markup: the
  pages put each part in the HTML escaped (a `<mark>` around matches), the API
  returns them as JSON. The database marks matches with two private-use
  characters that are removed from the indexed text first, so no document
  can forge a highlight.
- `store_body(document_id, text, position)` (the persistence path, see
  documents.storage and documents.indexing) and `store_title` (a rename)
  keep the SearchText rows current; nothing reads a document's state per query.

PostgreSQL: SearchText.vector = setweight(title, A) || setweight(body, B) with
the `simple` configuration (no stemming, any language), a GIN index (migration
0005). SQLite: an FTS5 table over SearchText's title and body, kept in sync by
triggers on SearchText (migration 0005); bm25 weights the title ten times.
"""

import re

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import BooleanField, F, FloatField, Func, Value
from django.db.models.functions import Replace, Substr

from .models import SearchText
from .selectors import documents_visible_to

# Put around matches by the database; removed from every indexed text, so only the database makes them.
MARK_START, MARK_END = "\ue000", "\ue001"
# PostgreSQL's ts_headline drops what looks like an HTML tag: "<" stands in as this while it runs.
LESS_THAN = "\ue002"
_MARKS = str.maketrans("", "", MARK_START + MARK_END + LESS_THAN)
# At most this many words of a query are searched for, each at most this long.
MAX_TERMS, MAX_TERM = 12, 64
# PostgreSQL's tsvector holds at most 1 MB: only the text's beginning is indexed (still stored whole).
VECTOR_TEXT = 400_000
CONFIG = "simple"
FTS = "documents_search_fts"


def terms(query: str) -> list[str]:
    """The words of a query (letters and digits), lower case, without repeats."""
    words = re.findall(r"[^\W_]+", (query or "").lower())
    return list(dict.fromkeys(w[:MAX_TERM] for w in words))[:MAX_TERMS]


def clean(text: str) -> str:
    """Text as it is indexed: without the highlight marks (and NUL, which PostgreSQL refuses)."""
    return text.translate(_MARKS).replace("\x00", "")


def position(last_seq: int, *, snapshot: bool) -> int:
    """How far into a document's stored history a text is: log rows up to `last_seq`, or a snapshot
    that covers them (it may hold more: unsaved updates go into it). Only grows."""
    return 2 * last_seq + (1 if snapshot else 0)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


# --- writing -------------------------------------------------------------------------------


def store_body(document_id, text: str, at: int) -> None:
    """The document's text as of stored position `at`; ignored if a newer text is already there."""
    rows = SearchText.objects.filter(document_id=document_id, position__lte=at)
    if rows.update(body=clean(text), position=at) and _postgres():
        _revector(SearchText.objects.filter(document_id=document_id))


def store_title(document_id, title: str) -> None:
    """The document's (new) title; makes its row if it has none yet."""
    SearchText.objects.update_or_create(document_id=document_id, defaults={"title": clean(title)})
    if _postgres():
        _revector(SearchText.objects.filter(document_id=document_id))


def _revector(rows) -> None:
    rows.update(vector=SearchVector("title", weight="A", config=CONFIG)
                + SearchVector(Substr("body", 1, VECTOR_TEXT), weight="B", config=CONFIG))


# --- searching ------------------------------------------------------------------------------


class _FtsRank(Func):
    """bm25 of one SearchText row for an FTS5 query, higher is better (title weighted 10, body 1)."""

    # expressions: [the query, the row's id]
    template = f"(SELECT -bm25({FTS}, 10.0, 1.0) FROM {FTS} WHERE {FTS} MATCH %(expressions)s)"
    arg_joiner = " AND rowid = "
    output_field = FloatField()


class _FtsHit(Func):
    """Does the FTS5 query match this SearchText row? (expressions: [the row's id, the query])"""

    template = "(%(expressions)s))"
    arg_joiner = f" IN (SELECT rowid FROM {FTS} WHERE {FTS} MATCH "
    output_field = BooleanField()
    conditional = True


def _tsquery(words: list[str], weight: str = "") -> SearchQuery:
    # The words are letters and digits only (`terms`): nothing in them is tsquery syntax.
    return SearchQuery(" & ".join(f"'{w}':*{weight}" for w in words), search_type="raw", config=CONFIG)


def _fts_query(words: list[str], column: str = "") -> str:
    phrase = " ".join(f'"{w}"*' for w in words)
    return f"{{{column}}} : ({phrase})" if column else phrase


def matching(user, query: str):
    """The documents `user` has a role on that match `query`, best first, with `.rank` (a queryset).

    A query without a word (only punctuation) matches nothing.
    """
    words = terms(query)
    documents = documents_visible_to(user)
    if not words:
        return documents.none()
    if _postgres():
        found = _tsquery(words)
        documents = documents.filter(search_text__vector=found).annotate(
            title_hit=Func(F("search_text__vector"), _tsquery(words, "A"), function="", arg_joiner=" @@ ",
                           output_field=BooleanField()),
            rank=SearchRank(F("search_text__vector"), found),
        )
    else:
        documents = documents.filter(_FtsHit(F("search_text__id"), Value(_fts_query(words)))).annotate(
            title_hit=_FtsHit(F("search_text__id"), Value(_fts_query(words, "title"))),
            rank=_FtsRank(Value(_fts_query(words)), F("search_text__id")),
        )
    return documents.order_by("-title_hit", "-rank", "-updated_at", "-pk")


def snippets(query: str, documents) -> dict:
    """{document pk: [(text, is_match), ...]}: the text around the first matches of each document's body."""
    words = terms(query)
    ids = [d.pk for d in documents]
    if not words or not ids:
        return {}
    if _postgres():
        rows = SearchText.objects.filter(document_id__in=ids).annotate(snippet=SearchHeadline(
            Replace(Substr("body", 1, VECTOR_TEXT), Value("<"), Value(LESS_THAN)), _tsquery(words), config=CONFIG, start_sel=MARK_START,
            stop_sel=MARK_END, max_words=24, min_words=12, short_word=2, highlight_all=False, max_fragments=1,
        )).values_list("document_id", "snippet")
        found = {pk: text.replace(LESS_THAN, "<") for pk, text in rows}
    else:
        rowids = dict(SearchText.objects.filter(document_id__in=ids).values_list("id", "document_id"))
        marks = ", ".join(["%s"] * len(rowids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, snippet({FTS}, 1, %s, %s, '…', 20) FROM {FTS} "
                f"WHERE {FTS} MATCH %s AND rowid IN ({marks})",
                [MARK_START, MARK_END, _fts_query(words), *rowids],
            )
            found = {rowids[rowid]: text for rowid, text in cursor.fetchall()}
    return {pk: parts(text) for pk, text in found.items() if text}


def parts(marked: str) -> list[tuple[str, bool]]:
    """A marked snippet as [(text, is_match)], in order, empty pieces left out."""
    out = []
    for i, piece in enumerate(re.split(f"[{MARK_START}{MARK_END}]", marked)):
        if piece:
            out.append((piece, i % 2 == 1))
    return out

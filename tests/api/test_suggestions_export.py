"""Pending suggestions (issue 20) through the REST import and every export format (documents/export/suggestions.py).

A document holding a proposed replacement ("old" -> "new", one suggestion)
and a proposed insertion by someone whose name is hostile markup: json keeps
them, html (and pdf from it) shows them as <ins>/<del> with their data, and
reads back as the same suggestions; md, txt and docx are the text as if every
pending suggestion were rejected.
"""

import json

from tests.api.client import ApiClient
from tests.support.exports import docx_paragraphs, pdf_text

HOSTILE = '<img src=x onerror=alert(1)> "Eve"'


def suggestion(kind: str, sid: str, name: str = "Bob Chen", author: str = "bob") -> dict:
    return {"type": kind, "attrs": {"id": sid, "author": author, "name": name, "at": "2026-12-03T19:00:00.000Z"}}


DOCUMENT = {"type": "doc", "content": [
    {"type": "paragraph", "content": [
        {"type": "text", "text": "The plan is "},
        {"type": "text", "text": "old", "marks": [suggestion("suggestionDelete", "s1")]},
        {"type": "text", "text": "new", "marks": [suggestion("suggestionInsert", "s1"), {"type": "bold"}]},
        {"type": "text", "text": " and agreed"},
        {"type": "text", "text": " by all", "marks": [suggestion("suggestionInsert", "s2", HOSTILE, "eve")]},
        {"type": "text", "text": "."},
    ]},
]}
# Every pending suggestion rejected: the deletion of "old" kept, "new" and " by all" not there.
REJECTED = "The plan is old and agreed."


def test_pending_suggestions_in_every_export_format_and_back(daphne_server, unique):
    name = f"{unique}sug"
    api = ApiClient(daphne_server.url, token=daphne_server.seed(users=[name])["tokens"][name])
    created = api.post("/api/documents/", {"title": "Suggested", "content": json.dumps(DOCUMENT), "format": "json"})
    assert created.status == 201, created.text
    document = created.json()["id"]
    replies = {name: api.export(document, name) for name in ("json", "html", "md", "txt", "docx", "pdf")}
    for name, reply in replies.items():
        assert reply.status == 200, f"{name}: {reply.status} {reply.text}"

    # json: as it is (the import kept the marks and their attributes).
    assert replies["json"].json() == DOCUMENT

    # html: proposals shown, hostile names as text.
    html = replies["html"].text
    assert ('<del class="suggestion" data-suggestion-id="s1" data-suggestion-author="bob" '
            'data-suggestion-name="Bob Chen" data-suggestion-at="2026-12-03T19:00:00.000Z" '
            'title="Suggested deletion by Bob Chen">old</del>') in html
    assert '<ins class="suggestion" data-suggestion-id="s1"' in html and "<strong>new</strong></ins>" in html
    assert "<img" not in html and "data-suggestion-name=\"&lt;img src=x onerror=alert(1)&gt; &quot;Eve&quot;\"" in html

    # md, txt, docx: as if rejected.
    assert replies["md"].text == REJECTED + "\n"
    assert replies["txt"].text == REJECTED + "\n"
    assert [text for _style, text in docx_paragraphs(replies["docx"].body)] == [REJECTED]
    # pdf: laid out from the html, the proposals in it.
    assert "The plan is oldnew and agreed by all." in pdf_text(replies["pdf"].body).replace("\n", " ")

    # The html export imports back as the same suggestions.
    again = api.post("/api/documents/", {"title": "Again", "content": html, "format": "html"})
    assert again.status == 201, again.text
    assert api.export(again.json()["id"], "json").json() == DOCUMENT

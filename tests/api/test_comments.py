"""Comments over the REST API, against a real Daphne (both set-ups): who may do what on every endpoint,
anchoring by quote, the `quote` as the text is edited live around and inside it and deleted, threads,
mentions and notifications, hostile bodies."""

import uuid

import pytest

from tests.api.client import ApiClient

ROLES = ("owner", "editor", "commenter", "viewer", "stranger")
TEXT = "# Plan\n\nThe budget is 10 euros. The budget is final.\n\nSecond paragraph here.\n"


DOCUMENTS = 12  # one per test that changes its document's text


@pytest.fixture(scope="module")
def cast(daphne_server):
    prefix = f"c{uuid.uuid4().hex[:8]}"
    names = {role: f"{prefix}{role}" for role in ROLES}
    roles = {names["editor"]: "editor", names["commenter"]: "commenter", names["viewer"]: "viewer"}
    seed = daphne_server.seed(
        users=list(names.values()),
        documents=[{"owner": names["owner"], "title": f"Commented plan {i}", "roles": roles} for i in range(DOCUMENTS)],
    )
    clients = {role: ApiClient(daphne_server.url, token=seed["tokens"][name]) for role, name in names.items()}
    return {"names": names, "tokens": seed["tokens"], "free": list(seed["documents"]), **clients}


def new_document(cast, text=TEXT) -> str:
    """One of the cast's documents (all roles on it), its text now `text` (Markdown, written live)."""
    doc = cast["free"].pop()
    written = cast["owner"].request("PUT", f"/api/documents/{doc}/content", body=text.encode(),
                                    headers={"Content-Type": "text/markdown"})
    assert written.status == 200, written.text
    return doc


def comments_of(api, doc, **query):
    return api.request("GET", f"/api/documents/{doc}/comments/", **query)


def post(api, doc, body="A remark", **anchor):
    return api.request("POST", f"/api/documents/{doc}/comments/", body={"body": body, **anchor})


def test_anchor_by_quote_and_its_occurrences(cast):
    doc = new_document(cast)
    first = post(cast["commenter"], doc, quote="budget", occurrence=1)
    assert first.status == 201, first.text
    second = post(cast["editor"], doc, "Later one", quote="The budget is", occurrence=2)
    assert second.status == 201, second.text
    thread = first.json()
    assert (thread["quote"], thread["original_quote"], thread["on_deleted_text"]) == ("budget", "budget", False)
    assert thread["author"]["username"] == cast["names"]["commenter"]
    assert (thread["resolved"], thread["replies"], thread["can_edit"], thread["can_delete"]) == (False, [], True, True)
    assert thread["anchor"]["start"] and thread["anchor"]["end"]
    listed = comments_of(cast["viewer"], doc).json()
    assert [t["quote"] for t in listed] == ["budget", "The budget is"]
    assert listed[0]["position"] < listed[1]["position"]
    assert (listed[0]["can_edit"], listed[0]["can_delete"]) == (False, False)
    missing = post(cast["owner"], doc, quote="nowhere in the text")
    assert missing.status == 422 and "does not contain" in missing.json()["detail"]
    third = post(cast["owner"], doc, quote="budget", occurrence=3)
    assert third.status == 422 and "2 times" in third.json()["detail"], third.text
    across = post(cast["owner"], doc, quote="final.\nSecond")
    assert across.status == 201 and across.json()["quote"] == "final.\nSecond", across.text

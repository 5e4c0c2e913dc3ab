"""Search (GET /api/documents/?q=) against a real Daphne on both set-ups: SQLite FTS5 and PostgreSQL.

Snapshots are made rare here (COLLAB_SNAPSHOT_INTERVAL=600), as on a real
server between versions: a word typed by a real pycrdt client is findable
within seconds through the update log's path (documents.indexing), not
because a snapshot happened to be taken.
"""

import secrets
import time

import pytest

from collab.client import YClient
from tests.api.client import ApiClient
from tests.support.clients import synced
from tests.support.crdt import paragraph
from tests.support.server import own_server
from tests.support.waits import wait_until


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def server(request):
    with own_server(request.param, env={"COLLAB_SNAPSHOT_INTERVAL": "600"}) as server:
        yield server


def word() -> str:
    """A word no other document holds (letters only, as a person would type)."""
    return "zq" + "".join(secrets.choice("bcdfghjklmnpstvwxz") for _ in range(10))


def found(api: ApiClient, query: str) -> list[dict]:
    reply = api.get("/api/documents/", q=query)
    assert reply.status == 200, reply.text
    return reply.json()["items"]


def ids(items) -> list[str]:
    return [item["id"] for item in items]


async def type_into(client: YClient, *texts) -> None:
    """Type paragraphs, and wait until the server says they are saved (in its update log)."""
    with client.doc.transaction():
        for text in texts:
            client.fragment.children.append(paragraph(text))
    await client.wait_for(YClient.saved_covers_own_edits)


async def test_a_word_typed_seconds_ago_is_found_title_matches_first_and_only_where_one_has_access(server):
    w = word()
    names = {role: f"s{secrets.token_hex(3)}{role}" for role in ("owner", "editor", "stranger")}
    seed = server.seed(users=list(names.values()), documents=[
        {"owner": names["owner"], "title": "Notes from Tuesday", "roles": {names["editor"]: "editor"}},
        {"owner": names["owner"], "title": f"The {w} plan"},
        {"owner": names["stranger"], "title": f"Someone else's {w}"},
        {"owner": names["owner"], "title": "Unrelated"},
    ])
    notes, titled, strangers, unrelated = seed["documents"]
    owner, editor, stranger = (ApiClient(server.url, token=seed["tokens"][names[r]])
                               for r in ("owner", "editor", "stranger"))

    # Typed by a real client, saved (in the update log): findable seconds later, with no snapshot taken
    # (the client stays connected: no idle stop, no version).
    async with synced(YClient(server.document_ws(notes), token=seed["tokens"][names["owner"]])) as client:
        typed_at = time.monotonic()
        await type_into(client, f"We saw a {w} crossing the road.", f"Then the {w} came back, and a second {w}.",
                        f"<b>{w}</b> & friends")
        hits = await wait_until(lambda: [i for i in found(owner, w) if i["id"] == notes], timeout=20,
                                what="the typed word to be found", blocking=True)
        assert time.monotonic() - typed_at < 10
        versions = owner.get(f"/api/documents/{notes}/versions/").json()["items"]
        assert versions == [], "found through the update log, not a snapshot"

    # The title match ranks first, the text match after it; the stranger's document is not there.
    items = found(owner, w)
    assert ids(items) == [titled, notes]
    assert all(i["role"] == "owner" for i in items)
    # The snippet: plain text parts, the matches marked; the typed markup is text, not markup.
    snippet = hits[0]["snippet"]
    assert {"text": w, "match": True} in snippet
    assert "crossing the road" in "".join(part["text"] for part in snippet if not part["match"])
    prefix = found(owner, w[:6])  # a word's beginning finds it too
    assert set(ids(prefix)) >= {titled, notes}
    markup = found(owner, f"friends {w}")
    assert ids(markup) == [notes]
    assert any(part["text"].startswith("<b>") or "<b>" in part["text"] for part in markup[0]["snippet"])

    # Access decides: the editor finds the shared document, the stranger only their own.
    assert ids(found(editor, w)) == [notes]
    assert ids(found(stranger, w)) == [strangers]
    assert found(owner, "nothing-like-this-anywhere") == []
    assert found(owner, "!!!") == []
    assert unrelated not in ids(found(owner, "notes unrelated"))

    # Access removed: the shared document stops showing at once.
    server.django(
        "from django.contrib.auth import get_user_model\n"
        "from documents.models import Document\nfrom documents.services import membership_set\n"
        f"membership_set(document=Document.objects.get(pk='{notes}'), "
        f"user=get_user_model().objects.get(username='{names['editor']}'), role=None)\n"
    )
    assert found(editor, w) == []


async def test_a_rename_is_found_by_its_new_title_at_once_and_no_longer_by_the_old_one(server):
    w_old, w_new = word(), word()
    names = [f"r{secrets.token_hex(3)}owner"]
    seed = server.seed(users=names, documents=[{"owner": names[0], "title": f"Draft {w_old}"}])
    (document,), owner = seed["documents"], ApiClient(server.url, token=seed["tokens"][names[0]])
    assert ids(found(owner, w_old)) == [document]
    assert owner.patch(f"/api/documents/{document}/", {"title": f"Final {w_new}"}).status == 200
    assert ids(found(owner, w_new)) == [document]
    assert found(owner, w_old) == []
    assert found(owner, w_new)[0]["title"] == f"Final {w_new}"


async def test_words_deleted_are_no_longer_found(server):
    w = word()
    names = [f"d{secrets.token_hex(3)}owner"]
    seed = server.seed(users=names, documents=[{"owner": names[0], "title": "Scratch"}])
    (document,), token = seed["documents"], seed["tokens"][names[0]]
    owner = ApiClient(server.url, token=token)
    async with synced(YClient(server.document_ws(document), token=token)) as client:
        with client.doc.transaction():
            client.fragment.children.append(paragraph(f"a {w} here"))
        await wait_until(lambda: ids(found(owner, w)) == [document], timeout=20, what="the word found", blocking=True)
        with client.doc.transaction():
            del client.fragment.children[0]
            client.fragment.children.append(paragraph("nothing to see"))
        await wait_until(lambda: found(owner, w) == [], timeout=20, what="the deleted word gone", blocking=True)

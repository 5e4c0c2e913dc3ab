"""Version history over REST (issue 15): list, read, name, restore, compare; who may do which.

Against a real Daphne (both set-ups), with real WebSocket clients where a
restore must reach people who have the document open.
"""

import asyncio
import time
import uuid

import pytest

from collab.client import YClient
from tests.api.client import ApiClient, make_cast, paragraphs
from tests.support.history import SEED, STATE_COLUMN
from tests.support.server import behind_database_proxy

ROLES = ("owner", "editor", "viewer", "stranger", "anonymous")

# Two versions of one document, as the editor would have made them: v1 holds Alpha and Bravo;
# v2 changed Bravo and added Charlie. v1's author is the owner, v2's the editor.



@pytest.fixture(scope="module")
def cast(daphne_server):
    cast = make_cast(daphne_server, f"v{uuid.uuid4().hex[:8]}")
    cast["anonymous"] = ApiClient(daphne_server.url)
    return cast


@pytest.fixture
def history(daphne_server, cast):
    """A document of the cast's with two versions (v1, v2); not open anywhere yet."""
    return daphne_server.django(SEED.replace("NAMES", repr(cast["names"])))


def base(history) -> str:
    return f"/api/documents/{history['doc']}/versions/"





# --- who may do what -----------------------------------------------------------------------

def test_role_matrix_for_every_version_endpoint(cast, history):
    v1, v2 = history["v1"], history["v2"]
    url = base(history)
    expected = {
        #              list   detail  diff   name   restore
        "owner": (200, 200, 200, 200, 201),
        "editor": (200, 200, 200, 200, 201),
        "viewer": (200, 200, 200, 403, 403),
        "stranger": (404, 404, 404, 404, 404),
        "anonymous": (401, 401, 401, 401, 401),
    }
    seen = {}
    for role in ROLES:
        api = cast[role]
        seen[role] = (
            api.get(url).status,
            api.get(f"{url}{v1}/").status,
            api.get(f"{url}{v1}/diff/{v2}").status,
            api.patch(f"{url}{v1}/", {"name": f"named by {role}"}).status,
            api.post(f"{url}{v1}/restore").status,
        )
    assert seen == expected
    # Refusals say why, in the API's error shape.
    assert cast["viewer"].post(f"{url}{v1}/restore").json() == {"detail": "A document's viewer may not do this"}
    assert cast["stranger"].get(f"{url}{v1}/").json() == {"detail": "No such document"}
    # A version of another document, or none at all, is a 404 too.
    assert cast["owner"].get(f"{url}999999999/").status == 404
    assert cast["owner"].get(f"{url}{v1}/diff/999999999").status == 404
    assert cast["owner"].get(f"{url}{v1}/diff/yesterday").status in (404, 422)


# --- reading -------------------------------------------------------------------------------

def test_list_and_detail_describe_each_version(cast, history):
    viewer = cast["viewer"]
    page = viewer.get(base(history)).json()
    assert page["count"] == 2
    newest, oldest = page["items"]
    assert newest["id"] == history["v2"] and oldest["id"] == history["v1"], "newest first"
    assert newest["created_at"].endswith("Z") or newest["created_at"].endswith("+00:00"), "UTC"
    assert newest["kind"] == "auto" and newest["name"] == ""
    assert [a["username"] for a in newest["authors"]] == [cast["names"]["editor"]]
    author = newest["authors"][0]
    assert isinstance(author["id"], int) and author["color"].startswith("#") and len(author["color"]) == 7
    assert newest["summary"] == {"blocks_added": 1, "blocks_removed": 0, "words_added": 3, "words_removed": 0}
    assert oldest["summary"] == {"blocks_added": 2, "blocks_removed": 0, "words_added": 2, "words_removed": 0}
    assert "state" not in newest and "content" not in newest, "a list never carries content"

    detail = viewer.get(f"{base(history)}{history['v1']}/").json()
    assert detail["id"] == history["v1"] and detail["summary"] == oldest["summary"]
    assert detail["content"] == {"type": "doc", "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Alpha"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "Bravo"}]},
    ]}


def test_diff_marks_insertions_and_deletions_with_their_author(cast, history):
    owner, url = cast["owner"], base(history)
    diff = owner.get(f"{url}{history['v1']}/diff/{history['v2']}").json()
    assert (diff["older"], diff["newer"]) == (history["v1"], history["v2"])
    assert [a["username"] for a in diff["authors"]] == [cast["names"]["editor"]]
    kinds = [block["kind"] for block in diff["blocks"]]
    assert kinds == ["same", "changed", "inserted"]
    changed = diff["blocks"][1]["runs"]
    assert [(r["text"], r["op"]) for r in changed] == [("Bravo", "equal"), (" changed twice", "insert")]
    editor = {"id": diff["authors"][0]["id"], "username": cast["names"]["editor"]}
    assert changed[1]["author"] == editor, "one person made the change: the insertion is theirs"
    assert diff["blocks"][2]["runs"] == [{"text": "Charlie", "op": "insert", "author": editor}]

    backwards = owner.get(f"{url}{history['v2']}/diff/{history['v1']}").json()
    assert [block["kind"] for block in backwards["blocks"]] == ["same", "changed", "deleted"]
    assert backwards["authors"] == [], "going back in time, nobody inserted anything"

    current = owner.get(f"{url}{history['v1']}/diff/current").json()
    assert current["newer"] == "current"
    assert [block["kind"] for block in current["blocks"]] == ["same", "changed", "inserted"], "live = v2"


# --- naming ----------------------------------------------------------------------------------

def test_naming_a_version_keeps_it_and_an_empty_name_removes_it(daphne_server, cast, history):
    url = f"{base(history)}{history['v1']}/"
    named = cast["editor"].patch(url, {"name": "  Sent to legal  "})
    assert named.status == 200, named.text
    assert (named.json()["name"], named.json()["kind"]) == ("Sent to legal", "named")
    assert cast["viewer"].get(url).json()["name"] == "Sent to legal"
    kept = daphne_server.django(
        "from datetime import timedelta\nfrom django.utils import timezone\n"
        "from documents.retention import thin_versions\nfrom documents.models import Snapshot\n"
        f"thin_versions(now=timezone.now() + timedelta(days=400), document_ids=[{history['doc']!r}])\n"
        f"result = list(Snapshot.objects.filter(document_id={history['doc']!r}).values_list('id', flat=True))"
    )
    assert history["v1"] in kept, "retention keeps a named version, however old"
    assert cast["owner"].patch(url, {"name": ""}).json()["kind"] == "auto"
    assert cast["owner"].patch(url, {"name": "x" * 201}).status == 422
    assert cast["owner"].patch(url, {"name": "bad\x00name"}).status == 422


# --- restoring --------------------------------------------------------------------------------

async def test_restore_reaches_an_open_editor_with_a_notice_and_is_recorded(daphne_server, cast, history):
    document, url = history["doc"], base(history)
    async with YClient(daphne_server.document_ws(document), token=cast["tokens"][cast["names"]["viewer"]]) as watcher:
        await watcher.synced.wait()
        assert "Charlie" in watcher.text()
        reply = await asyncio.to_thread(cast["editor"].post, f"{url}{history['v1']}/restore")
        assert reply.status == 201, reply.text
        restored = reply.json()
        await watcher.wait_for(lambda c: "Charlie" not in c.text() and "changed twice" not in c.text())
        await watcher.wait_for(lambda c: (c.server_state() or {}).get("restored") is not None)
        notice = watcher.server_state()["restored"]
    editor = cast["names"]["editor"]
    assert notice["by"] == editor and notice["version"] == history["v1"]
    assert notice["version_time"].endswith("Z") and notice["at"].endswith("Z")
    assert restored["kind"] == "restore"
    assert restored["name"].startswith("Restored from ") and restored["name"].endswith(f" by {editor}")
    assert editor in [a["username"] for a in restored["authors"]]
    assert restored["summary"]["blocks_removed"] + restored["summary"]["words_removed"] > 0
    assert paragraphs(cast["owner"], document) == ["Alpha", "Bravo"]
    newest = cast["owner"].get(url).json()["items"][0]
    assert newest["id"] == restored["id"], "the restore is the newest version"
    assert cast["owner"].get(f"{url}{restored['id']}/").json()["content"] == \
        cast["owner"].get(f"{url}{history['v1']}/").json()["content"], "the restore version holds v1's content"


async def test_two_restores_at_once_do_not_duplicate_blocks(daphne_server, cast, history):
    document, url = history["doc"], base(history)
    async with YClient(daphne_server.document_ws(document), token=cast["tokens"][cast["names"]["owner"]]) as owner:
        await owner.synced.wait()
        for round_ in range(3):
            # Change the live document, then two people restore v1 at the same moment.
            with owner.doc.transaction():
                owner.fragment.children[0].children[0].insert(0, f"Edited {round_} ")
            await owner.wait_for(lambda c: c.saved_covers_own_edits(), 10)
            replies = await asyncio.gather(
                asyncio.to_thread(cast["owner"].post, f"{url}{history['v1']}/restore"),
                asyncio.to_thread(cast["editor"].post, f"{url}{history['v1']}/restore"),
            )
            assert [r.status for r in replies] == [201, 201], [r.text for r in replies]
            assert paragraphs(cast["viewer"], document) == ["Alpha", "Bravo"], f"round {round_}: no block twice"
            await owner.wait_for(lambda c: "Edited" not in c.text())
    kinds = [v["kind"] for v in cast["owner"].get(url, page_size=100).json()["items"]]
    assert kinds.count("restore") == 6, "every restore is recorded"


async def test_restore_during_a_database_outage_is_refused_and_changes_nothing():
    async with behind_database_proxy() as (server, proxy):
        names = {role: f"o{role}" for role in ("owner", "editor", "viewer", "stranger")}
        seed = await asyncio.to_thread(server.seed, users=list(names.values()))
        history = await asyncio.to_thread(server.django, SEED.replace("NAMES", repr(names)))
        editor = ApiClient(server.url, token=seed["tokens"][names["editor"]])
        url = base(history)
        async with YClient(server.document_ws(history["doc"]), token=seed["tokens"][names["owner"]]) as watcher:
            await watcher.synced.wait()
            before = watcher.text()
            proxy.disconnect()
            reply = await asyncio.to_thread(editor.post, f"{url}{history['v1']}/restore")
            assert reply.status == 503, reply.text
            assert "unavailable" in reply.json()["detail"], "a clear message says why"
            assert reply.headers["Retry-After"]
            proxy.reconnect()
            versions = await asyncio.to_thread(editor.get, url)
            assert versions.status == 200, versions.text
            assert [v["kind"] for v in versions.json()["items"]] == ["auto", "auto"], "no restore recorded"
            assert watcher.text() == before, "the open editor saw no change"
            assert await asyncio.to_thread(paragraphs, editor, history["doc"]) == \
                ["Alpha", "Bravo changed twice", "Charlie"]
            # Once the database is back, the same restore works.
            again = await asyncio.to_thread(editor.post, f"{url}{history['v1']}/restore")
            assert again.status == 201, again.text
            await watcher.wait_for(lambda c: "Charlie" not in c.text())


# --- thousands of versions (in-process: which SQL the list runs, not timing) ----------------

VERSIONS = 3000


@pytest.fixture
def big_history(db, django_user_model):
    from datetime import timedelta

    from django.utils import timezone

    from documents.models import Document, Snapshot
    from documents.services import token_create

    owner = django_user_model.objects.create_user("longlived")
    document = Document.objects.create(owner=owner, title="Long-lived")
    now = timezone.now()
    blob = b"\x01" * 20_000  # never decoded: a list must not even read it
    summary = {"blocks_added": 1, "blocks_removed": 0, "words_added": 3, "words_removed": 1}
    Snapshot.objects.bulk_create(
        Snapshot(document=document, created_at=now - timedelta(minutes=n), state=blob, state_vector=b"\x00",
                 size=len(blob), authors=["longlived"], preview=f"version {n}", summary=summary)
        for n in range(VERSIONS)
    )
    return document, token_create(user=owner, name="t")[1]


def _list(client, document, token, **query):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        reply = client.get(f"/api/documents/{document.pk}/versions/", query, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert reply.status_code == 200, reply.content
    return reply.json(), [q["sql"] for q in queries.captured_queries]


def test_three_thousand_versions_list_a_page_at_a_time_without_states(client, big_history):
    document, token = big_history
    started = time.perf_counter()
    page, queries = _list(client, document, token)
    print(f"first page of {VERSIONS} versions: {len(queries)} queries, {1000 * (time.perf_counter() - started):.1f} ms")
    assert page["count"] == VERSIONS and len(page["items"]) == 50, "one page of 50"
    assert not [q for q in queries if STATE_COLUMN in q], "the list must not load encoded states"
    assert len(queries) < 12, f"a constant number of queries, got {len(queries)}"
    assert page["items"][0]["summary"]["words_added"] == 3
    assert page["items"][0]["authors"][0]["username"] == "longlived"

    last, queries = _list(client, document, token, page=30, page_size=100)
    assert len(last["items"]) == 100 and not [q for q in queries if STATE_COLUMN in q]
    times = [item["created_at"] for item in last["items"]]
    assert times == sorted(times, reverse=True), "newest first"
    too_big = client.get(f"/api/documents/{document.pk}/versions/", {"page_size": 101},
                         HTTP_AUTHORIZATION=f"Bearer {token}")
    assert too_big.status_code == 422, "a page holds at most 100 versions"


def test_a_summary_is_computed_once_then_kept_on_the_row(client, db, django_user_model):
    from django.utils import timezone
    from pycrdt import Doc, XmlElement, XmlFragment, XmlText

    from documents.models import Document, Snapshot
    from documents.services import token_create

    owner = django_user_model.objects.create_user("summarized")
    document = Document.objects.create(owner=owner, title="Summarized")
    doc = Doc()
    doc.get("default", type=XmlFragment).children.append(XmlElement("paragraph", contents=[XmlText("one two")]))
    version = Snapshot.objects.create(document=document, created_at=timezone.now(), state=doc.get_update(),
                                      state_vector=doc.get_state(), authors=["summarized"])
    token = token_create(user=owner, name="t")[1]
    first, queries = _list(client, document, token)
    assert first["items"][0]["summary"] == {"blocks_added": 1, "blocks_removed": 0, "words_added": 2,
                                            "words_removed": 0}
    assert [q for q in queries if STATE_COLUMN in q], "computed from the states the first time"
    version.refresh_from_db()
    assert version.summary == first["items"][0]["summary"], "and kept on the row"
    second, queries = _list(client, document, token)
    assert second == first and not [q for q in queries if STATE_COLUMN in q], "then never computed again"

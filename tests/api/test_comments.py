"""Comments over the REST API, against a real Daphne (both set-ups): who may do what on every endpoint,
anchoring by quote, the `quote` as the text is edited live around and inside it and deleted, threads,
mentions and notifications, hostile bodies."""

import asyncio
import uuid

import pytest
from pycrdt import XmlElement, XmlText

from collab import protocol
from collab.client import YClient
from tests.api.client import ApiClient
from tests.support.clients import synced
from tests.support.mail import link_in, wait_for_mail

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
    daphne_server.django(
        "from django.contrib.auth import get_user_model\n"
        f"for name in {list(names.values())!r}:\n"
        "    get_user_model().objects.filter(username=name).update(email=name + '@example.com', first_name=name.title())\n")
    clients = {role: ApiClient(daphne_server.url, token=seed["tokens"][name]) for role, name in names.items()}
    return {"server": daphne_server, "names": names, "tokens": seed["tokens"], "free": list(seed["documents"]), **clients}


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


def url_of(doc, comment="", tail=""):
    return f"/api/documents/{doc}/comments/" + (f"{comment}/" if comment else "") + tail


def statuses(cast, doc, method, path, body=None, roles=ROLES):
    return {role: cast[role].request(method, path, body=body).status for role in roles}


def test_who_may_do_what_on_every_endpoint(cast):
    doc = new_document(cast)
    owners = post(cast["owner"], doc, quote="Plan").json()["id"]
    # Read: every role; no role: 404 as for the document itself.
    assert statuses(cast, doc, "GET", url_of(doc)) == {
        "owner": 200, "editor": 200, "commenter": 200, "viewer": 200, "stranger": 404}
    assert statuses(cast, doc, "GET", url_of(doc, owners)) == {
        "owner": 200, "editor": 200, "commenter": 200, "viewer": 200, "stranger": 404}
    assert statuses(cast, doc, "GET", f"/api/documents/{doc}/people/") == {
        "owner": 200, "editor": 200, "commenter": 200, "viewer": 200, "stranger": 404}
    # Comment and reply: owner, editor, commenter.
    assert statuses(cast, doc, "POST", url_of(doc), {"body": "Mine", "quote": "budget"}) == {
        "owner": 201, "editor": 201, "commenter": 201, "viewer": 403, "stranger": 404}
    assert statuses(cast, doc, "POST", url_of(doc, owners, "replies/"), {"body": "Re"}) == {
        "owner": 201, "editor": 201, "commenter": 201, "viewer": 403, "stranger": 404}
    # Resolve / re-open: owner and editor.
    for action in ("resolve/", "reopen/"):
        assert statuses(cast, doc, "POST", url_of(doc, owners, action)) == {
            "owner": 200, "editor": 200, "commenter": 403, "viewer": 403, "stranger": 404}
    assert statuses(cast, doc, "PATCH", url_of(doc, owners), {"resolved": True}) == {
        "owner": 200, "editor": 200, "commenter": 403, "viewer": 403, "stranger": 404}
    # Edit: the author only.
    assert statuses(cast, doc, "PATCH", url_of(doc, owners), {"body": "Edited"}) == {
        "owner": 200, "editor": 403, "commenter": 403, "viewer": 403, "stranger": 404}
    # Delete: the author, or the document's owner.
    commenters = post(cast["commenter"], doc, quote="Second").json()["id"]
    assert statuses(cast, doc, "DELETE", url_of(doc, commenters), roles=("stranger", "viewer", "editor")) == {
        "stranger": 404, "viewer": 403, "editor": 403}
    assert cast["commenter"].request("DELETE", url_of(doc, commenters)).status == 204
    editors = post(cast["editor"], doc, quote="Second").json()["id"]
    assert cast["commenter"].request("DELETE", url_of(doc, editors)).status == 403
    assert cast["owner"].request("DELETE", url_of(doc, editors)).status == 204
    assert cast["owner"].request("GET", url_of(doc, editors)).status == 404
    # Anonymous: 401 everywhere.
    anonymous = ApiClient(cast["owner"].base_url)
    assert anonymous.request("GET", url_of(doc)).status == 401
    assert anonymous.request("POST", url_of(doc), body={"body": "x", "quote": "Plan"}).status == 401
    assert anonymous.request("GET", "/api/notifications/").status == 401


def test_threads_replies_resolve_and_reopen(cast):
    doc = new_document(cast)
    thread = post(cast["commenter"], doc, "Is this right?", quote="10 euros").json()
    reply = cast["editor"].request("POST", url_of(doc, thread["id"], "replies/"), body={"body": "Yes"})
    assert reply.status == 201 and reply.json()["body"] == "Yes", reply.text
    assert "anchor" not in reply.json()
    # A reply is read on its own too, without anchor; replies have no replies.
    alone = cast["viewer"].request("GET", url_of(doc, reply.json()["id"])).json()
    assert (alone["body"], "anchor" in alone) == ("Yes", False)
    assert cast["owner"].request("POST", url_of(doc, reply.json()["id"], "replies/"), body={"body": "x"}).status == 422
    assert cast["owner"].request("POST", url_of(doc, reply.json()["id"], "resolve/")).status == 422
    resolved = cast["editor"].request("POST", url_of(doc, thread["id"], "resolve/")).json()
    assert resolved["resolved"] and resolved["resolved_by"]["username"] == cast["names"]["editor"]
    assert resolved["resolved_at"]
    assert comments_of(cast["owner"], doc).json() == []
    assert [t["id"] for t in comments_of(cast["owner"], doc, status="resolved").json()] == [thread["id"]]
    everything = comments_of(cast["owner"], doc, status="all").json()
    assert [r["body"] for r in everything[0]["replies"]] == ["Yes"]
    reopened = cast["owner"].request("POST", url_of(doc, thread["id"], "reopen/")).json()
    assert (reopened["resolved"], reopened["resolved_by"], reopened["resolved_at"]) == (False, None, None)
    assert [t["id"] for t in comments_of(cast["owner"], doc).json()] == [thread["id"]]
    # Editing marks the message edited; deleting a thread takes its replies along.
    edited = cast["commenter"].request("PATCH", url_of(doc, thread["id"]), body={"body": "Is this right now?"}).json()
    assert edited["body"] == "Is this right now?" and edited["edited_at"]
    assert cast["commenter"].request("DELETE", url_of(doc, thread["id"])).status == 204
    assert cast["owner"].request("GET", url_of(doc, reply.json()["id"])).status == 404
    assert comments_of(cast["owner"], doc, status="all").json() == []
    assert comments_of(cast["owner"], doc, status="maybe").status == 422


def test_bad_anchors_and_requests_are_refused_with_a_reason(cast):
    doc = new_document(cast)
    for body in ({"body": "x"}, {"body": "x", "quote": "Plan", "anchor": {"start": "AAcuAA==", "end": "AAcuAA=="}},
                 {"body": "x", "anchor": {"start": "not base64!", "end": "AAcuAA=="}},
                 {"body": "x", "anchor": {"start": "/////w==", "end": "AAcuAA=="}},
                 {"body": "x", "quote": "Plan", "occurrence": 0}, {"body": "", "quote": "Plan"},
                 {"body": "   ", "quote": "Plan"}, {"body": "x", "quote": ""}):
        reply = cast["owner"].request("POST", url_of(doc), body=body)
        assert reply.status == 422 and reply.json()["detail"], (body, reply.text)
    assert cast["owner"].request("GET", url_of(doc, uuid.uuid4())).status == 404
    assert cast["owner"].request("PATCH", url_of(doc, uuid.uuid4()), body={"body": "x"}).status == 404
    # A comment of another document is not found through this one.
    other = new_document(cast)
    elsewhere = post(cast["owner"], other, quote="Plan").json()["id"]
    assert cast["owner"].request("GET", url_of(doc, elsewhere)).status == 404
    # Deleting what is not there (here) is done already: 204, and the other document's comment stays.
    assert cast["owner"].request("DELETE", url_of(doc, elsewhere)).status == 204
    assert cast["viewer"].request("DELETE", url_of(doc, elsewhere)).status == 403
    assert cast["owner"].request("GET", url_of(other, elsewhere)).status == 200


HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "&lt;b&gt; & </textarea> \"quotes\" 'single' `back`",
    "Zero\u200bwidth, RTL \u202emirrored\u202c, emoji 😀👩‍👩‍👧",
    "Line one\nLine two\r\n\ttabbed",
    "x" * 10_000,
]


def test_hostile_bodies_are_stored_and_returned_as_text(cast):
    doc = new_document(cast)
    for body in HOSTILE:
        made = post(cast["commenter"], doc, body, quote="Plan")
        assert made.status == 201, made.text[:300]
        assert made.json()["body"] == body
        assert cast["viewer"].request("GET", url_of(doc, made.json()["id"])).json()["body"] == body
        assert made.headers["Content-Type"].startswith("application/json")
    for body in ("x" * 10_001, "NUL \x00 inside"):
        refused = post(cast["commenter"], doc, body, quote="Plan")
        assert refused.status == 422 and refused.json()["detail"], refused.text[:300]
    lone = cast["commenter"].request("POST", url_of(doc), headers={"Content-Type": "application/json"},
                                     body=b'{"body": "half \\ud800 a pair", "quote": "Plan"}')
    assert lone.status == 422, lone.text
    huge = cast["commenter"].request("POST", url_of(doc), body={"body": "y" * (10 * 1024 * 1024), "quote": "Plan"})
    assert huge.status in (413, 422), huge.status
    assert [t["body"] for t in comments_of(cast["owner"], doc).json()] == HOSTILE


def paragraph_text(client: YClient, index: int) -> XmlText:
    return client.fragment.children[index].children[0]


async def stored(client: YClient) -> None:
    """Until the server holds (durably) every edit this client made."""
    await client.wait_for(lambda c: c.saved_covers_own_edits(), timeout=15)


async def test_the_quote_follows_live_edits_around_and_inside_it_then_its_deletion(cast):
    server, doc = cast["server"], new_document(cast)
    editor = cast["editor"]
    made = await asyncio.to_thread(post, cast["commenter"], doc, "Check", quote="budget is 10")
    assert made.status == 201, made.text
    thread = made.json()["id"]
    later = (await asyncio.to_thread(post, cast["owner"], doc, "Later", quote="Second")).json()["id"]

    async def now():
        return (await editor.aget(url_of(doc, thread))).json()

    async with synced(YClient(server.document_ws(doc), token=cast["tokens"][cast["names"]["editor"]])) as client:
        text = paragraph_text(client, 1)
        assert str(text) == "The budget is 10 euros. The budget is final."
        text.insert(len("The "), "whole ")  # before the anchored text
        await stored(client)
        assert (await now())["quote"] == "budget is 10"
        text.insert(len("The whole budget"), " really")  # inside it
        text.insert(0, ">> ")  # and at the start of its paragraph
        await stored(client)
        found = await now()
        assert (found["quote"], found["original_quote"], found["on_deleted_text"]) == (
            "budget really is 10", "budget is 10", False)
        assert found["position"] == len("Plan\n>> The whole ")
        # Typing right after its last character is not inside it.
        text.insert(len(">> The whole budget really is 10"), "0")
        await stored(client)
        assert (await now())["quote"] == "budget really is 10"
        # Deleting exactly the anchored text: the thread stays, on deleted text, with its quote.
        start = len(">> The whole ")
        del text[start:start + len("budget really is 10")]
        await stored(client)
        gone = await now()
        assert (gone["quote"], gone["on_deleted_text"], gone["position"]) == ("budget is 10", True, None)
        listed = (await editor.aget(url_of(doc))).json()
        assert [t["id"] for t in listed] == [later, thread], "threads on deleted text come last"


async def test_open_editors_hear_of_every_comment_change(cast):
    server, doc = cast["server"], new_document(cast)
    token = cast["tokens"][cast["names"]["viewer"]]
    async with synced(YClient(server.document_ws(doc), token=token)) as watcher:
        await watcher.wait_for(lambda c: c.server_state() is not None)
        seen = []

        async def heard_after(change):
            before = (watcher.server_state() or {}).get("comments")
            result = await asyncio.to_thread(change)
            await watcher.wait_for(lambda c: (c.server_state() or {}).get("comments") != before, timeout=10)
            seen.append(watcher.server_state()["comments"]["n"])
            return result

        made = await heard_after(lambda: post(cast["commenter"], doc, quote="Plan"))
        thread = made.json()["id"]
        await heard_after(lambda: cast["commenter"].request("POST", url_of(doc, thread, "replies/"), body={"body": "r"}))
        await heard_after(lambda: cast["owner"].request("POST", url_of(doc, thread, "resolve/")))
        await heard_after(lambda: cast["commenter"].request("PATCH", url_of(doc, thread), body={"body": "e"}))
        await heard_after(lambda: cast["owner"].request("DELETE", url_of(doc, thread)))
        assert len(set(seen)) == 5


async def test_a_commenters_socket_is_read_only(cast):
    server, doc = cast["server"], new_document(cast)
    url = server.document_ws(doc)
    async with synced(YClient(url, token=cast["tokens"][cast["names"]["commenter"]])) as commenter:
        commenter.fragment.children.append(XmlElement("paragraph", contents=[XmlText("typed by a commenter")]))
        # Once the server answers a later sync step 1, it has handled the update (one mailbox, in order).
        frames = commenter.frames_received
        await commenter.send(protocol.encode_sync_step1(commenter.doc.get_state()))
        await commenter.wait_for(lambda c: c.frames_received > frames)
    async with synced(YClient(url, token=cast["tokens"][cast["names"]["owner"]])) as owner:
        assert "typed by a commenter" not in owner.text()
        assert "Second paragraph here." in owner.text()
    # ...while commenting works.
    assert (await asyncio.to_thread(post, cast["commenter"], doc, quote="Second")).status == 201


async def test_mentions_notify_people_with_access_and_name_the_others(cast):
    server, doc, names = cast["server"], new_document(cast), cast["names"]
    before = cast["viewer"].get("/api/notifications/unread-count/").json()["count"]
    body = f"@{names['viewer']} and @{names['stranger']}, see this. @nobody-{uuid.uuid4().hex[:6]} @{names['owner']}."
    made = await asyncio.to_thread(post, cast["owner"], doc, body, quote="budget")
    assert made.status == 201, made.text
    assert made.json()["mentioned_without_access"] == [{"username": names["stranger"],
                                                        "name": names["stranger"].title()}]
    assert cast["viewer"].get("/api/notifications/unread-count/").json()["count"] == before + 1
    assert cast["stranger"].get("/api/notifications/unread-count/").json()["count"] == 0
    assert cast["owner"].get("/api/notifications/unread-count/").json()["count"] == 0, "no notice of oneself"
    listed = cast["viewer"].get("/api/notifications/", unread=1).json()
    notice = listed[0]
    assert notice["kind"] == "mention" and notice["read"] is False
    assert notice["actor"] == {"username": names["owner"], "name": names["owner"].title()}
    assert notice["document"]["id"] == doc and notice["comment_id"] == made.json()["id"]
    assert notice["excerpt"].startswith(f"@{names['viewer']} and")
    mail = await wait_for_mail(server, f"{names['viewer']}@example.com", "mentioned you")
    assert f"/documents/{doc}/" in link_in(mail, server.url)
    # An edit notifies only whom it newly mentions; a reply mentions too.
    edited = cast["owner"].patch(url_of(doc, made.json()["id"]), {"body": body + f" @{names['commenter']}"})
    assert edited.status == 200 and edited.json()["mentioned_without_access"] == [], edited.text
    assert cast["viewer"].get("/api/notifications/unread-count/").json()["count"] == before + 1
    assert cast["commenter"].get("/api/notifications/", unread=1).json()[0]["comment_id"] == made.json()["id"]
    reply = cast["commenter"].post(url_of(doc, made.json()["id"], "replies/"), {"body": f"Yes @{names['viewer']}"})
    assert reply.status == 201 and reply.json()["mentioned_without_access"] == []
    # Only the owner, who can share, learns who has no access: to others it would tell which usernames exist.
    probe = cast["commenter"].post(url_of(doc, made.json()["id"], "replies/"), {"body": f"@{names['stranger']}?"})
    assert probe.status == 201 and probe.json()["mentioned_without_access"] == [], probe.text
    assert cast["viewer"].get("/api/notifications/unread-count/").json()["count"] == before + 2
    # Read one, then all; the list keeps them, marked read.
    assert cast["viewer"].post(f"/api/notifications/{notice['id']}/read/").status == 204
    assert cast["stranger"].post(f"/api/notifications/{notice['id']}/read/").status == 404
    assert cast["viewer"].get("/api/notifications/unread-count/").json()["count"] == before + 1
    assert cast["viewer"].post("/api/notifications/read-all/").json() == {"count": before + 1}
    assert cast["viewer"].get("/api/notifications/unread-count/").json()["count"] == 0
    assert all(n["read"] for n in cast["viewer"].get("/api/notifications/").json())
    # Deleting the comment takes its notifications along.
    assert cast["owner"].delete(url_of(doc, made.json()["id"])).status == 204
    assert made.json()["id"] not in [n["comment_id"] for n in cast["viewer"].get("/api/notifications/").json()]


def test_people_who_can_be_mentioned(cast):
    doc, names = new_document(cast), cast["names"]
    everyone = cast["commenter"].get(f"/api/documents/{doc}/people/").json()
    assert [p["username"] for p in everyone] == [names["owner"]] + sorted(
        names[r] for r in ("editor", "commenter", "viewer"))
    prefix = names["owner"][:-len("owner")]
    assert [p["username"] for p in cast["owner"].get(f"/api/documents/{doc}/people/", q=prefix + "ed").json()] == [
        names["editor"]]
    assert cast["owner"].get(f"/api/documents/{doc}/people/", q="zzz-nobody").json() == []


def test_an_empty_document_can_be_commented_on(cast):
    doc = cast["free"].pop()  # never written to
    made = post(cast["commenter"], doc, anchor={"start": "AAAA", "end": "AAAA"})
    assert made.status == 201, made.text
    assert made.json()["on_deleted_text"] is True
    assert comments_of(cast["owner"], doc).status == 200
    assert post(cast["commenter"], doc, quote="anything").status == 422

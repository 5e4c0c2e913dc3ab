"""The version history in the admin, against a live server: list, view, compare, name, delete."""

import asyncio

import pytest
from pycrdt import XmlElement, XmlText

from collab.client import YClient
from tests.documents.admin_http import make_document, marked, signed_in
from tests.support.clients import synced
from tests.support.crdt import paragraph


@pytest.fixture(scope="module")
def admin(daphne_server, cast):
    return signed_in(daphne_server, cast.restorer)


def versions_url(document, rest=""):
    return f"/admin/documents/document/{document}/versions/{rest}"


async def test_history_lists_versions_made_over_a_live_socket_with_their_authors(daphne_server, cast, admin):
    document, _ = make_document(daphne_server, cast, "Launch plan")
    url = daphne_server.document_ws(document)
    async with synced(YClient(url, token=cast.tokens[cast.owner])) as alice:
        with alice.doc.transaction():
            alice.fragment.children.append(XmlElement("heading", {"level": 1.0}, [XmlText("Launch plan")]))
            alice.fragment.children.append(paragraph("The quick brown fox"))
        first = await admin.wait_for_versions(document, 1)

        async with YClient(url, token=cast.tokens[cast.editor]) as bob:
            await bob.wait_for(lambda c: "quick brown fox" in c.text())
            text = bob.fragment.children[1].children[0]
            with bob.doc.transaction():
                del text[10:15]  # "brown"
                text.insert(10, "red")
                text.insert(len(text), " jumps")
            rows = await admin.wait_for_versions(document, 2)

    newer, older = rows[0], rows[1]
    assert older["id"] == first[0]["id"], "the first version stays in the list, below the newer one"
    assert older["authors"] == [cast.owner], f"expected the first version by the owner only, got {older}"
    assert newer["authors"] == [cast.editor], f"expected the second version by the editor only, got {newer}"
    assert newer["kind"] == older["kind"] == "auto", "versions taken while editing are automatic"

    view = await asyncio.to_thread(admin.get, versions_url(document, f"{older['id']}/"))
    assert view.status == 200, f"expected the version view, got {view.status}"
    assert "<h1>Launch plan</h1>" in view.text and "<p>The quick brown fox</p>" in view.text, (
        "the version view must render the document as it was at that version"
    )
    view = await asyncio.to_thread(admin.get, versions_url(document, f"{newer['id']}/"))
    assert "<p>The quick red fox jumps</p>" in view.text, "the newer version shows the editor's change"

    # By default a version is compared with the one before it.
    diff = await asyncio.to_thread(admin.get, versions_url(document, f"compare/?to={newer['id']}"))
    assert diff.status == 200, f"expected the comparison, got {diff.status}"
    inserted = marked(diff.text, "ins")
    assert inserted == ["red", "jumps"], f"expected exactly 'red' and 'jumps' inserted, got {inserted}"
    assert marked(diff.text, "del") == ["brown"], f"expected exactly 'brown' deleted, got {marked(diff.text, 'del')}"
    assert "1 changed" in diff.text and "0 added" in diff.text, "only the paragraph changed, not the heading"


async def test_any_two_versions_compare_word_by_word_and_escape_what_they_show(daphne_server, cast, admin):
    document, ids = make_document(daphne_server, cast, "Compare", [
        {"age": 300, "text": "Alpha beta gamma delta."},
        {"age": 200, "text": "Alpha beta gamma delta."},
        {"age": 100, "text": "Alpha gamma delta <script>alert(1)</script> epsilon!"},
    ])
    diff = await asyncio.to_thread(admin.get, versions_url(document, f"compare/?from={ids[0]}&to={ids[2]}"))
    assert marked(diff.text, "del") == ["beta", "."], f"expected 'beta' and '.' deleted, got {marked(diff.text, 'del')}"
    assert marked(diff.text, "ins") == ["<script>alert(1)</script> epsilon!"], marked(diff.text, "ins")
    assert "<script>alert(1)" not in diff.text and "&lt;script&gt;alert(1)" in diff.text, "document text is escaped"

    same = await asyncio.to_thread(admin.get, versions_url(document, f"compare/?from={ids[0]}&to={ids[1]}"))
    assert "No differences" in same.text and "<ins>" not in same.text, "identical versions show no change"

    first = await asyncio.to_thread(admin.get, versions_url(document, f"compare/?to={ids[0]}"))
    assert marked(first.text, "ins") == ["Alpha beta gamma delta."], "the first version is all new"

    other, _ = make_document(daphne_server, cast, "Other")
    foreign = await asyncio.to_thread(admin.get, versions_url(other, f"{ids[0]}/"))
    assert foreign.status == 404, "a version is only reachable through its own document"


async def test_a_version_can_be_named_and_unnamed(daphne_server, cast, admin):
    document, ids = make_document(daphne_server, cast, "Naming", [{"age": 60, "text": "one"}])
    name_url = versions_url(document, f"{ids[0]}/name/")
    named = await asyncio.to_thread(admin.post, name_url, {"label": "Sent to <client>"})
    assert named.status == 302, f"naming redirects back to the version, got {named.status}"
    rows = await asyncio.to_thread(admin.versions, document)
    assert (rows[0]["kind"], rows[0]["label"]) == ("named", "Sent to <client>"), rows[0]
    page = await asyncio.to_thread(admin.get, versions_url(document))
    assert "Sent to &lt;client&gt;" in page.text, "labels are escaped"

    refused = await asyncio.to_thread(admin.get, name_url)
    assert refused.status == 405, "naming changes data: POST only"
    unnamed = await asyncio.to_thread(admin.post, name_url, {"label": ""})
    assert unnamed.status == 302
    rows = await asyncio.to_thread(admin.versions, document)
    assert (rows[0]["kind"], rows[0]["label"]) == ("auto", ""), "removing the name makes the version automatic again"


async def test_document_list_shows_versions_and_who_is_editing_now(daphne_server, cast, admin):
    document, _ = make_document(daphne_server, cast, "Busy", [{"age": 60}, {"age": 30}])
    async with synced(YClient(daphne_server.document_ws(document), token=cast.tokens[cast.owner])) as alice:
        # With several processes, live status comes from their heartbeats: up to a second or so late.
        page = await admin.wait_for_page(
            "/admin/documents/document/?open=yes", lambda reply: f"{document}/change/" in reply.text
        )
    row = next(r for r in page.text.split("<tr")[1:] if f"{document}/change/" in r)
    assert f'{document}/versions/">2</a>' in row, "the list counts the document's versions and links to them"
    assert 'alt="True"' in row, "a document with a live actor is shown as open"
    assert '<td class="field-editors_connected">1</td>' in row, "one editor is connected"

    searched = await asyncio.to_thread(admin.get, f"/admin/documents/document/?q={cast.owner}")
    assert f"{document}/change/" in searched.text, "documents can be found by their owner's name"


async def test_versions_go_with_their_document(daphne_server, cast, unique):
    title = f"Doomed {unique}"
    document, _ = make_document(daphne_server, cast, title, [{"age": 60}, {"age": 30}])
    root = signed_in(daphne_server, cast.root)
    every_version = f"/admin/documents/snapshot/?q={title.replace(' ', '+')}"
    listed = await asyncio.to_thread(root.get, every_version)
    assert listed.text.count(f"{document}/versions/") == 2, "the list of all versions shows the document's two"
    confirm = await asyncio.to_thread(root.get, f"/admin/documents/document/{document}/delete/")
    assert confirm.status == 200 and "2 versions" in confirm.text, "the confirmation counts versions, not lists them"
    deleted = await asyncio.to_thread(root.post, f"/admin/documents/document/{document}/delete/", {"post": "yes"})
    assert deleted.status == 302, f"expected the delete to go through, got {deleted.status}"
    gone = await asyncio.to_thread(root.get, versions_url(document))
    assert gone.status == 404, "the document's history is gone with it"
    listed = await asyncio.to_thread(root.get, every_version)
    assert listed.status == 200 and f"{document}/versions/" not in listed.text, "deleting a document deletes its versions"

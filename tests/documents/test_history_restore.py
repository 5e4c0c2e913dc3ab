"""Restore from the admin against a live server, with editors connected over WebSockets."""

import asyncio

from pycrdt import Doc, XmlFragment

from collab.client import YClient
from documents.export import document_tree
from documents.export.html import render_fragment
from tests.documents.admin_http import make_document, marked, signed_in
from tests.documents.tiptap import build, bullet_list, heading, paragraph, text, write
from tests.support.clients import synced

VERSION = [
    heading(1, "Launch plan"),
    paragraph("alpha ", text("first", "bold")),
    paragraph("bravo"),
    paragraph("charlie"),
    bullet_list([paragraph("one")], [paragraph("two")]),
]


def content(client_or_doc) -> dict:
    return document_tree(client_or_doc.doc if isinstance(client_or_doc, YClient) else client_or_doc)


async def test_restore_reaches_open_editors_keeps_a_concurrent_edit_and_is_recorded(daphne_server, cast):
    admin = signed_in(daphne_server, cast.restorer)
    document, _ = make_document(daphne_server, cast, "Restore me")
    url = daphne_server.document_ws(document)
    version_tree = document_tree(build(VERSION, trailing_paragraph=False))

    async with synced(YClient(url, token=cast.tokens[cast.owner]),
                      YClient(url, token=cast.tokens[cast.editor])) as (alice, bob):
        with alice.doc.transaction():
            write(alice.fragment, VERSION)
        await bob.wait_for(lambda c: content(c) == version_tree)
        version = (await admin.wait_for_versions(document, 1))[0]

        # Edits after the version: one paragraph changed, one deleted, a list item changed, one added.
        with alice.doc.transaction():
            alice.fragment.children[1].children[0].insert(0, "CHANGED ")
            del alice.fragment.children[3]  # charlie
            alice.fragment.children[3].children[1].children[0].children[0].insert(3, " and a half")
            write(alice.fragment, [paragraph("delta")])
        await bob.wait_for(lambda c: "delta" in c.text())

        # Someone offline: they have today's content and edit "bravo", which the restore has no reason
        # to touch; their edit reaches the server only after the restore.
        offline = Doc()
        offline.apply_update(bob.doc.get_update())
        offline_text = offline.get("default", type=XmlFragment).children[2].children[0]
        offline_text.insert(len(offline_text), " (edited offline)")

        restore_url = f"/admin/documents/document/{document}/versions/{version['id']}/restore/"
        confirm = await asyncio.to_thread(admin.get, restore_url)
        assert confirm.status == 200, f"expected the confirmation page, got {confirm.status}"
        assert marked(confirm.text, "del") == ["CHANGED", "and a half", "delta"], marked(confirm.text, "del")
        assert marked(confirm.text, "ins") == ["charlie"], "the confirmation shows what the restore will change"

        reply = await asyncio.to_thread(admin.post, restore_url)
        assert reply.status == 302, f"expected the restore to redirect to the history, got {reply.status}"
        # The update was fanned out before the admin answered; one second is generous.
        await asyncio.gather(
            alice.wait_for(lambda c: content(c) == version_tree, timeout=1.0),
            bob.wait_for(lambda c: content(c) == version_tree, timeout=1.0),
        )

        # The offline person comes back: their client resends what the server lacks.
        returning = YClient(url, token=cast.tokens[cast.editor])
        returning.doc.apply_update(offline.get_update())
        async with returning:
            expected = document_tree(build(
                VERSION[:2] + [paragraph("bravo (edited offline)")] + VERSION[3:], trailing_paragraph=False
            ))
            await asyncio.gather(*(c.wait_for(lambda c: content(c) == expected) for c in (alice, bob, returning)))

    rows = await asyncio.to_thread(admin.versions, document)
    newest = rows[0]
    assert newest["kind"] == "restore" and newest["label"].startswith("Restored from "), newest
    assert version["time"] in newest["label"], f"the label names the restored version's time, got {newest['label']}"
    view = await asyncio.to_thread(admin.get, f"/admin/documents/document/{document}/versions/{newest['id']}/")
    assert render_fragment(version_tree) in view.text, "the restore version holds the restored content"

    # The admin's own log (LogEntry), as staff read it on the document's History page.
    log = await asyncio.to_thread(admin.get, f"/admin/documents/document/{document}/history/")
    entries = [row for row in log.text.split("<tr>")[1:] if "Restored the version" in row]
    assert len(entries) == 1, f"expected one LogEntry for the restore, got {len(entries)}"
    assert f"<td>{cast.restorer}</td>" in entries[0], "the log records who restored"
    assert f"(version {version['id']}) as version {newest['id']}" in entries[0], "and which version, as which"


async def test_restoring_a_closed_document_spawns_its_actor(daphne_server, cast):
    admin = signed_in(daphne_server, cast.restorer)
    document, ids = make_document(daphne_server, cast, "Closed", [
        {"age": 120, "text": "the original text"},
        {"age": 60, "text": "a later rewrite"},
    ])
    reply = await asyncio.to_thread(admin.post, f"/admin/documents/document/{document}/versions/{ids[0]}/restore/")
    assert reply.status == 302, f"expected the restore to go through, got {reply.status}"
    async with YClient(daphne_server.document_ws(document), token=cast.tokens[cast.owner]) as reader:
        await reader.wait_for(lambda c: c.text() == "<paragraph>the original text</paragraph>")
    rows = await asyncio.to_thread(admin.versions, document)
    assert [row["kind"] for row in rows] == ["restore", "auto", "auto"], rows

"""Export over the REST API of a real Daphne, with documents written by real pycrdt WebSocket clients.

Runs on both set-ups (SQLite + in-memory layer, PostgreSQL + Redis): see
tests/conftest.py.
"""

import asyncio
import io
import json

import docx

import pytest
from pycrdt import XmlText

from collab.client import YClient
from documents.export.tree import document_tree
from tests.api.client import ApiClient, wait_for_version
from tests.documents.export import markdown_structure
from tests.support.exports import docx_paragraphs, pdf_text
from tests.documents.export.sample import SAMPLE, SAMPLE_HTML, SAMPLE_MD, SAMPLE_TXT, TITLE
from tests.documents.export.tiptap_node import shape, tiptap_load
from tests.documents.tiptap import bullet_list, heading, link, paragraph, text, write
from tests.support.clients import same_state, synced


async def edit(writer: YClient, observer: YClient, change) -> None:
    """Make a change and wait until the server has fanned it out to another client.

    The observer receiving it proves the document's actor applied it; nothing
    here waits for it to be saved.
    """
    with writer.doc.transaction():
        change(writer)
    await observer.wait_for(lambda o: same_state(o, writer))


def first_paragraph_text(client: YClient) -> XmlText:
    return next(child for child in client.fragment.children if child.tag == "paragraph").children[0]


@pytest.fixture
def owned(daphne_server, unique):
    """An owner with a token and a document titled TITLE."""
    name = f"{unique}owner"
    seed = daphne_server.seed(users=[name], documents=[{"owner": name, "title": TITLE}])
    token = seed["tokens"][name]
    return seed["documents"][0], token, ApiClient(daphne_server.url, token=token)


async def test_a_document_built_over_a_socket_exports_exactly_in_every_format(daphne_server, owned):
    document, token, api = owned
    url = daphne_server.document_ws(document)
    async with synced(YClient(url, token=token), YClient(url, token=token)) as (writer, observer):
        # As Tiptap writes it, with the empty paragraph its editor keeps at the end.
        await edit(writer, observer, lambda c: write(c.fragment, SAMPLE + [paragraph()]))

        replies = {name: await api.aexport(document, name) for name in ("md", "txt", "html", "json")}

    for name, reply in replies.items():
        assert reply.status == 200, f"{name}: {reply.status} {reply.text}"
    assert replies["md"].text == SAMPLE_MD
    assert replies["txt"].text == SAMPLE_TXT
    html = replies["html"].text
    assert f"<article>\n{SAMPLE_HTML}\n</article>" in html
    assert "<title>Notes: \"Q3\" &lt;draft&gt;</title>" in html
    assert replies["json"].json() == {"type": "doc", "content": SAMPLE}

    # The Markdown has the document's structure when parsed again.
    parsed = markdown_structure.parse(replies["md"].text)
    assert parsed == markdown_structure.expected({"type": "doc", "content": SAMPLE})
    # And Tiptap loads the JSON as it is.
    [loaded] = tiptap_load([replies["json"].json()])
    assert "error" not in loaded, loaded
    assert shape(loaded["ok"]) == shape(replies["json"].json())

    content_types = {name: reply.headers["Content-Type"] for name, reply in replies.items()}
    assert content_types == {
        "md": "text/markdown; charset=utf-8",
        "txt": "text/plain; charset=utf-8",
        "html": "text/html; charset=utf-8",
        "json": "application/json",
    }
    assert replies["md"].headers["Content-Disposition"] == 'attachment; filename="Notes_ _Q3_ _draft.md"'
    assert "sandbox" in replies["html"].headers["Content-Security-Policy"], "the HTML export must not run scripts"


async def test_an_edit_is_in_the_export_at_once_before_anything_is_saved(server_factory, unique):
    # Nothing is written to the database for a minute: the export can only come from the live actor.
    server = server_factory(env={"COLLAB_FLUSH_DELAY": "60", "COLLAB_FLUSH_MAX_WAIT": "120",
                                 "COLLAB_SNAPSHOT_INTERVAL": "600"}).start()
    name = f"{unique}fresh"
    seed = server.seed(users=[name], documents=[{"owner": name, "title": "Fresh"}])
    document, token = seed["documents"][0], seed["tokens"][name]
    api = ApiClient(server.url, token=token)
    url = server.document_ws(document)
    async with synced(YClient(url, token=token), YClient(url, token=token)) as (writer, observer):
        await edit(writer, observer, lambda c: write(c.fragment, [paragraph("first draft")]))
        assert (await api.aexport(document, "txt")).text == "first draft\n"

        await edit(writer, observer, lambda c: first_paragraph_text(c).insert(len("first "), "and only "))
        reply = await api.aexport(document, "txt")
        assert reply.text == "first and only draft\n", "the export must include an edit made a moment ago"

        stored = server.django(
            "from documents.models import Snapshot, UpdateLog\n"
            f"result = [UpdateLog.objects.filter(document_id={document!r}).count(),"
            f" Snapshot.objects.filter(document_id={document!r}).count()]\n"
        )
        assert stored == [0, 0], f"the edits were already stored ({stored}): this test proves nothing"


async def test_version_exports_the_content_at_that_version_and_etags_work(daphne_server, owned):
    document, token, api = owned
    url = daphne_server.document_ws(document)
    async with synced(YClient(url, token=token), YClient(url, token=token)) as (writer, observer):
        await edit(writer, observer, lambda c: write(c.fragment, [paragraph("version one")]))
        version = await wait_for_version(api, document, lambda txt: txt == "version one\n")
        assert set(version) == {"id", "created_at", "size", "authors", "label", "name", "kind", "summary"}
        assert version["size"] > 0 and version["kind"] == "auto"

        await edit(writer, observer, lambda c: first_paragraph_text(c).insert(len("version "), "number "))
        live = await api.aexport(document, "md")
        old = await api.aexport(document, "md", version=version["id"])
        assert live.text == "version number one\n"
        assert old.text == "version one\n", "version= must give the content as it was then"

        # ETag / If-None-Match.
        etag = live.headers["ETag"]
        assert etag.startswith('"') and etag != old.headers["ETag"]
        same = await api.aexport(document, "md", headers={"If-None-Match": etag})
        assert (same.status, same.body, same.headers["ETag"]) == (304, b"", etag)
        for header in (f"W/{etag}", f'"nope", {etag}', "*"):
            assert (await api.aexport(document, "md", headers={"If-None-Match": header})).status == 304, header
        other_format = await api.aexport(document, "txt", headers={"If-None-Match": etag})
        assert other_format.status == 200, "an ETag is per format"
        assert (await api.aexport(document, "md", version=version["id"],
                                  headers={"If-None-Match": old.headers["ETag"]})).status == 304

        # A deletion does not move the state vector; the ETag must change all the same.
        await edit(writer, observer, lambda c: first_paragraph_text(c).__delitem__(slice(0, len("version "))))
        after_delete = await api.aexport(document, "md", headers={"If-None-Match": etag})
        assert after_delete.status == 200 and after_delete.text == "number one\n"
        assert after_delete.headers["ETag"] != etag

    missing = api.export(document, "md", version=version["id"] + 10_000)
    assert missing.status == 404 and "no version" in missing.json()["detail"]
    other = ApiClient(daphne_server.url, token=token)
    assert other.export(document, "md", version="abc").status == 422
    assert other.export(document, "md", version=2**70).status == 422


def test_an_unknown_or_missing_format_is_a_422_listing_the_valid_ones(owned):
    document, _, api = owned
    for name in ("pdfx", "", "HTML"):
        reply = api.export(document, name)
        assert reply.status == 422, f"{name!r}: {reply.status}"
        assert "'html', 'json', 'md'" in reply.json()["detail"], reply.json()
    reply = api.get(f"/api/documents/{document}/export")
    assert reply.status == 422 and "'format'" in reply.json()["detail"], reply.json()


async def test_hostile_content_exports_as_inert_html(daphne_server, owned):
    document, token, api = owned
    hostile = [
        paragraph("<script>alert(1)</script>", text("click me", link("javascript:alert(1)"))),
        paragraph(text("sneaky", link(" JaVaScRiPt:alert(2)")), text(" <img src=x onerror=alert(3)>", "bold")),
    ]
    url = daphne_server.document_ws(document)
    async with synced(YClient(url, token=token), YClient(url, token=token)) as (writer, observer):
        await edit(writer, observer, lambda c: write(c.fragment, hostile))
        html = await api.aexport(document, "html")
        md = await api.aexport(document, "md")
        data = await api.aexport(document, "json")

    page = html.text
    assert "<script" not in page and "<img" not in page, "document text must be escaped"
    assert "javascript:" not in page.lower(), "javascript: links must be dropped"
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;click me</p>" in page
    assert "<p>sneaky<strong> &lt;img src=x onerror=alert(3)&gt;</strong></p>" in page
    csp = html.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp
    assert html.headers["X-Content-Type-Options"] == "nosniff"
    assert "javascript:" not in md.text.lower() and "\\<script>" in md.text
    # JSON is the document's data, for an editor: kept as stored (Tiptap refuses such links itself).
    assert json.dumps(data.json()).count("javascript:alert(1)") == 1


def test_content_disposition_survives_any_title(daphne_server, unique):
    name = f"{unique}titles"
    titles = ["Plan", "Résumé 2026", "../../etc/passwd", 'a"b\\c', "日本語", "   ", "line\r\nX-Injected: 1"]
    seed = daphne_server.seed(users=[name], documents=[{"owner": name, "title": t} for t in titles])
    api = ApiClient(daphne_server.url, token=seed["tokens"][name])
    got = [api.export(document, "txt").headers["Content-Disposition"] for document in seed["documents"]]
    assert got == [
        'attachment; filename="Plan.txt"',
        "attachment; filename=\"Resume 2026.txt\"; filename*=UTF-8''R%C3%A9sum%C3%A9%202026.txt",
        'attachment; filename="etc_passwd.txt"',
        'attachment; filename="a_b_c.txt"',
        "attachment; filename=\"document.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt",
        'attachment; filename="Untitled document.txt"',
        'attachment; filename="line_X-Injected_ 1.txt"',
    ]


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def test_pdf_and_docx_export_live_and_at_a_version_with_etags_and_roles(daphne_server, unique):
    names = {role: f"{unique}{role}" for role in ("owner", "viewer", "stranger")}
    seed = daphne_server.seed(users=list(names.values()),
                              documents=[{"owner": names["owner"], "title": "Plan B",
                                          "roles": {names["viewer"]: "viewer"}}])
    document, token = seed["documents"][0], seed["tokens"][names["owner"]]
    api, viewer, stranger = (ApiClient(daphne_server.url, token=seed["tokens"][names[role]])
                             for role in ("owner", "viewer", "stranger"))
    url = daphne_server.document_ws(document)
    async with YClient(url, token=token) as writer, YClient(url, token=token) as observer:
        await asyncio.gather(writer.synced.wait(), observer.synced.wait())
        await edit(writer, observer, lambda c: write(c.fragment, [
            heading(1, "Quarterly plan"), paragraph("version one"), bullet_list([paragraph("first item")])]))
        version = await wait_for_version(api, document, lambda txt: "version one" in txt)
        await edit(writer, observer, lambda c: c.fragment.children[1].children[0].insert(len("version "), "two, not "))

        live = {name: await api.aexport(document, name) for name in ("pdf", "docx")}
        old = {name: await api.aexport(document, name, version=version["id"]) for name in ("pdf", "docx")}

    for name, reply in [*live.items(), *old.items()]:
        assert reply.status == 200, f"{name}: {reply.status} {reply.body[:200]!r}"
    assert live["pdf"].headers["Content-Type"] == "application/pdf"
    assert live["docx"].headers["Content-Type"] == DOCX_TYPE
    assert live["pdf"].headers["Content-Disposition"] == 'attachment; filename="Plan B.pdf"'
    assert live["docx"].headers["Content-Disposition"] == 'attachment; filename="Plan B.docx"'

    text = " ".join(pdf_text(live["pdf"].body).split())
    assert "Quarterly plan" in text and "version two, not one" in text and "first item" in text
    assert "version two" not in pdf_text(old["pdf"].body) and "version one" in pdf_text(old["pdf"].body)
    assert docx_paragraphs(live["docx"].body) == [
        ("Heading 1", "Quarterly plan"), ("Normal", "version two, not one"), ("List Bullet", "first item")]
    assert docx_paragraphs(old["docx"].body)[1] == ("Normal", "version one")
    assert docx.Document(io.BytesIO(live["docx"].body)).core_properties.title == "Plan B"

    # ETags as for the other formats: per format, per state, and 304 when unchanged.
    for name, reply in live.items():
        etag = reply.headers["ETag"]
        assert etag != old[name].headers["ETag"]
        again = await api.aexport(document, name, headers={"If-None-Match": etag})
        assert (again.status, again.body) == (304, b""), name
    assert live["pdf"].headers["ETag"] != live["docx"].headers["ETag"]

    # Roles: a viewer exports, a stranger does not see the document.
    assert (await viewer.aexport(document, "pdf")).status == 200
    assert (await viewer.aexport(document, "docx", version=version["id"])).status == 200
    for name in ("pdf", "docx"):
        reply = await stranger.aexport(document, name)
        assert reply.status == 404 and reply.json() == {"detail": "No such document"}


async def test_a_rich_document_built_over_a_socket_exports_with_absolute_image_addresses(daphne_server, owned):
    from tests.documents.export.rich_sample import DOC, RICH

    document, token, api = owned
    url = daphne_server.document_ws(document)
    relative = {"type": "image", "attrs": {"src": f"/api/documents/{document}/images/1", "alt": "Chart"}}
    async with synced(YClient(url, token=token), YClient(url, token=token)) as (writer, observer):
        with writer.doc.transaction():
            write(writer.fragment, RICH + [relative, paragraph()])
        # Compared as trees: the XML string of an element with several attributes (a cell's colspan and
        # rowspan) lists them in whatever order each Doc keeps its map in.
        await observer.wait_for(lambda o: document_tree(o.doc) == document_tree(writer.doc))
        replies = {name: await api.aexport(document, name) for name in ("md", "txt", "html", "json", "docx")}
    assert all(reply.status == 200 for reply in replies.values()), {n: r.status for n, r in replies.items()}

    assert replies["json"].json() == {"type": "doc", "content": DOC["content"] + [relative]}
    absolute = f"{daphne_server.url}/api/documents/{document}/images/1"
    assert f"![Chart]({absolute})\n" in replies["md"].text
    assert "- [ ] Write it\n- [x] Ship it\n" in replies["md"].text and "| Name | Role \\| team |\n" in replies["md"].text
    assert f'<img src="{absolute}" alt="Chart">' in replies["html"].text
    assert '<input type="checkbox" disabled checked>' in replies["html"].text
    assert "<th><p>Name</p></th>" in replies["html"].text
    assert f"Chart ({absolute})" in replies["txt"].text
    table = docx.Document(io.BytesIO(replies["docx"].body)).tables[0]
    assert [[c.text for c in row.cells] for row in table.rows] == [["Name", "Role | team"], ["Ann", "dev"]]

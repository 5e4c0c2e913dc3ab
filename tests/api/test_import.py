"""Import over the REST API of a real Daphne (both set-ups): files and `content`, checked through the json export.

POST /api/documents/import takes a multipart upload; POST /api/documents/ takes
`content` + `format`. What is refused stores nothing: the caller's document
list is the same before and after.
"""

import base64
import io
import json
import uuid

import pytest

from collab.client import YClient
from documents.export.tree import document_tree
from tests.api.client import ApiClient
from tests.documents.test_importing import COMMON, COMMON_HTML, COMMON_MD, REFUSED_AS_HOSTILE, doc, spec_examples
from tests.documents.tiptap import node, paragraph


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """A multipart/form-data body: `files` maps a field to (file name, bytes)."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  "Content-Type: application/octet-stream\r\n\r\n".encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def upload(api: ApiClient, filename: str, data: bytes | str, **fields):
    body, content_type = multipart(fields, {"file": (filename, data.encode() if isinstance(data, str) else data)})
    return api.post("/api/documents/import", body=body, headers={"Content-Type": content_type})


def exported_json(api: ApiClient, document_id) -> dict:
    reply = api.export(document_id, "json")
    assert reply.status == 200, reply.text
    return reply.json()


def as_exported(content: list) -> dict:
    """What the json export gives for a document: an empty one keeps its one empty paragraph."""
    return {"type": "doc", "content": content or [paragraph()]}


def document_ids(api: ApiClient) -> set:
    reply = api.get("/api/documents/", page_size=100)
    assert reply.status == 200, reply.text
    return {item["id"] for item in reply.json()["items"]}


def word_file() -> bytes:
    import docx  # python-docx: a requirement (the DOCX export), never skipped
    document = docx.Document()
    document.add_heading("Plan", 1)
    para = document.add_paragraph("Some ")
    para.add_run("bold").bold = True
    para.add_run(" and ")
    para.add_run("italic").italic = True
    document.add_paragraph("one", style="List Bullet")
    document.add_paragraph("two", style="List Bullet")
    document.add_picture(io.BytesIO(_PNG))
    data = io.BytesIO()
    document.save(data)
    return data.getvalue()


def _png() -> bytes:
    """A 1×1 white PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
            + chunk(b"IEND", b""))


_PNG = _png()


@pytest.fixture
def api(daphne_server, unique):
    name = f"{unique}imp"
    token = daphne_server.seed(users=[name])["tokens"][name]
    return ApiClient(daphne_server.url, token=token)


def test_each_format_imports_to_the_same_document(api):
    for filename, data in (("plan.md", COMMON_MD), ("plan.html", COMMON_HTML),
                           ("plan.json", json.dumps(doc(*COMMON)))):
        reply = upload(api, filename, data)
        assert reply.status == 201, f"{filename}: {reply.status} {reply.text}"
        created = reply.json()
        assert (created["title"], created["role"], created["notes"]) == ("plan", "owner", []), filename
        assert exported_json(api, created["id"]) == doc(*COMMON), filename

    reply = upload(api, "notes.txt", "first line\nsecond line\n\n# no heading\n")
    assert reply.status == 201, reply.text
    assert exported_json(api, reply.json()["id"]) == doc(
        paragraph("first line", node("hardBreak"), "second line"), paragraph("# no heading"))


def test_a_word_file_imports_like_its_markdown_with_its_picture_inline(api):
    reply = upload(api, "Quarterly plan.docx", word_file())
    assert reply.status == 201, reply.text
    created = reply.json()
    assert created["title"] == "Quarterly plan"
    assert created["notes"] == []

    markdown = api.post("/api/documents/", {"title": "From Markdown", "format": "md",
                                            "content": "# Plan\n\nSome **bold** and *italic*\n\n- one\n- two\n"})
    assert markdown.status == 201, markdown.text
    from_word = exported_json(api, created["id"])
    # The picture is the document's own, as a data: image (the Word file stands alone, so does the document).
    picture = {"type": "image", "attrs": {"src": "data:image/png;base64," + base64.b64encode(_PNG).decode()}}
    assert from_word["content"] == exported_json(api, markdown.json()["id"])["content"] + [picture]


def test_content_on_create_is_imported_and_the_document_is_live_at_once(daphne_server, api):
    reply = api.post("/api/documents/", {"title": "Seeded", "format": "html",
                                         "content": "<h2>Hi</h2><p>there <img src=ftp://x/a.png></p>"})
    assert reply.status == 201, reply.text
    created = reply.json()
    assert (created["title"], created["notes"]) == ("Seeded", ["1 image skipped"])
    expected = {"type": "doc", "content": [{"type": "heading", "attrs": {"level": 2},
                                            "content": [{"type": "text", "text": "Hi"}]}, paragraph("there")]}
    assert exported_json(api, created["id"]) == expected

    # Its first version is the import, named so.
    versions = api.get(f"/api/documents/{created['id']}/versions/").json()["items"]
    assert [(v["label"], v["kind"]) for v in versions] == [("Imported", "named")]

    # Without content, as before: an empty document and no version.
    plain = api.post("/api/documents/", {"title": "Empty"})
    assert plain.status == 201 and plain.json()["notes"] == []
    assert api.get(f"/api/documents/{plain.json()['id']}/versions/").json()["items"] == []


async def test_an_editor_opening_the_imported_document_gets_its_content(daphne_server, api):
    reply = upload(api, "plan.md", COMMON_MD)
    assert reply.status == 201, reply.text
    url = daphne_server.document_ws(reply.json()["id"])
    async with YClient(url, token=api.token) as client:
        await client.synced.wait()
        assert document_tree(client.doc) == doc(*COMMON)


def test_the_commonmark_spec_as_one_file_round_trips_stably(api):
    # Every example but the two refused for their <script>, one after another.
    text = "\n\n".join(e["markdown"] for e in spec_examples() if e["example"] not in REFUSED_AS_HOSTILE)
    first = upload(api, "spec.md", text)
    assert first.status == 201, first.text
    exported = api.export(first.json()["id"], "md").text
    again = api.post("/api/documents/", {"title": "again", "content": exported, "format": "md"})
    assert again.status == 201, again.text
    assert api.export(again.json()["id"], "md").text == exported


HOSTILE = [
    ("page.html", "<p>Hello</p><script>fetch('/api/documents/')</script>", 422, "<script>"),
    ("page.html", '<p onmouseover="alert(1)">Hello</p>', 422, "event handler"),
    ("page.html", '<a href="javascript:alert(document.cookie)">click</a>', 422, "javascript:"),
    ("notes.md", "[click](javascript:alert(1))", 422, "javascript:"),
    ("notes.md", "Hi <img src=x onerror=alert(1)>", 422, "event handler"),
    ("doc.json", json.dumps(doc(paragraph({"type": "text", "text": "x", "marks": [
        {"type": "link", "attrs": {"href": "javascript:alert(1)"}}]}))), 422, "javascript:"),
    ("bad.md", b"\xff\xfe\x00broken", 422, "UTF-8"),
    ("report.docx", b"%PDF-1.7 not a word file", 422, "not a .docx"),
    ("report.docx", "bomb", 413, "zip bomb"),
    ("picture.png", _PNG, 415, "Cannot tell the format"),
]


def zip_bomb() -> bytes:
    import zipfile

    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document>" + b"\0" * 500_000_000)
    return data.getvalue()


def test_hostile_and_invalid_files_are_refused_and_store_nothing(api):
    before = document_ids(api)
    bomb = zip_bomb()
    assert len(bomb) < 1_000_000  # half a gigabyte when inflated
    for filename, data, status, words in HOSTILE:
        reply = upload(api, filename, bomb if data == "bomb" else data)
        assert reply.status == status, f"{filename}: {reply.status} {reply.text}"
        assert words in reply.json()["detail"], reply.json()
    for content, format_name in (("<script>alert(1)</script>", "html"), ("{", "json")):
        reply = api.post("/api/documents/", {"title": "x", "content": content, "format": format_name})
        assert reply.status == 422, reply.text
    assert document_ids(api) == before


def test_a_50_mb_file_is_refused_with_413(api):
    before = document_ids(api)
    reply = upload(api, "huge.md", b"a" * (50 * 1024 * 1024))
    assert reply.status == 413, reply.status
    assert "too large" in reply.json()["detail"]
    assert document_ids(api) == before


def test_the_upload_needs_a_file_and_a_caller(daphne_server, api):
    body, content_type = multipart({"title": "no file"}, {})
    assert api.post("/api/documents/import", body=body, headers={"Content-Type": content_type}).status == 422
    anonymous = ApiClient(daphne_server.url)
    assert upload(anonymous, "plan.md", "# x").status == 401
    # A name that does not say: UTF-8 is plain text, a zip archive is tried as Word.
    reply = upload(api, "README", "# kept as text")
    assert reply.status == 201, reply.text
    assert exported_json(api, reply.json()["id"]) == doc(paragraph("# kept as text"))
    assert upload(api, "attachment", word_file()).status == 201
    # An explicit format wins over the file's name.
    reply = upload(api, "plan.txt", "# Heading", format="md", title="Given title")
    assert reply.status == 201, reply.text
    assert reply.json()["title"] == "Given title"
    assert exported_json(api, reply.json()["id"])["content"][0]["type"] == "heading"


def test_a_malformed_multipart_body_is_a_json_4xx(api):
    for body, content_type in ((b"--abc--\r\n", "multipart/form-data; boundary=abc"),
                               (b"--abc\r\nnonsense", "multipart/form-data; boundary=abc"),
                               (b"", "multipart/form-data"),
                               (b'{"file": "x"}', "application/json")):
        reply = api.post("/api/documents/import", body=body, headers={"Content-Type": content_type})
        assert 400 <= reply.status < 500, (body, reply.status)
        assert reply.headers["Content-Type"] == "application/json", (body, reply.status, reply.body)
        assert reply.json()["detail"], body


def test_rich_markdown_imports_with_every_node_and_a_huge_table_is_a_413(api):
    from tests.documents.export.rich_sample import DOC
    from documents.export import get

    reply = upload(api, "rich.md", get("md").render(DOC, title="rich"))
    assert reply.status == 201, reply.text
    assert reply.json()["notes"] == []
    assert exported_json(api, reply.json()["id"]) == DOC

    before = document_ids(api)
    rows = "".join("|" + "x|" * 100 + "\n" for _ in range(101))
    reply = upload(api, "sheet.md", "|" + "h|" * 100 + "\n|" + "-|" * 100 + "\n" + rows)
    assert reply.status == 413, reply.text
    assert "A table is too large to import: 102 rows by 100 columns" in reply.json()["detail"]
    assert document_ids(api) == before

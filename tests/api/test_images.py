"""Images in documents over HTTP, against a real Daphne (both set-ups): upload, limits, who sees them,
exports, and their files going with their document."""

import asyncio
import base64
import uuid
from pathlib import Path

import pytest
from pycrdt import XmlElement

from collab import protocol
from collab.client import YClient
from tests.api.client import ApiClient, SessionClient, make_cast
from tests.support import images
from tests.support.clients import synced
from tests.support.waits import wait_until


@pytest.fixture(scope="module")
def cast(daphne_server):
    return make_cast(daphne_server, f"i{uuid.uuid4().hex[:8]}")


@pytest.fixture
def own_cast(daphne_server, unique):
    return make_cast(daphne_server, unique)


def test_an_editor_uploads_and_everyone_with_a_role_sees_it(daphne_server, cast):
    data = images.png(5, 4)
    reply = images.upload(cast["editor"], cast["document"], data)
    assert reply.status == 201, reply.text
    uploaded = reply.json()
    assert uploaded["src"] == f"/documents/{cast['document']}/images/{uploaded['id']}"
    assert (uploaded["content_type"], uploaded["size"], uploaded["width"], uploaded["height"]) == (
        "image/png", len(data), 5, 4)
    for role in ("owner", "editor", "viewer"):
        served = cast[role].get(uploaded["src"])
        assert served.status == 200, role
        assert served.body == data
        assert served.headers["Content-Type"] == "image/png"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert served.headers["Content-Disposition"] == "inline"
        assert served.headers["Cache-Control"] == "private, no-cache"
        assert "sandbox" in served.headers["Content-Security-Policy"]
    # Revalidation: the browser asks again every time, and gets a 304 while its role holds.
    etag = cast["viewer"].get(uploaded["src"]).headers["ETag"]
    assert cast["viewer"].get(uploaded["src"], headers={"If-None-Match": etag}).status == 304


def test_the_type_comes_from_the_content_not_the_name(daphne_server, cast):
    # A JPEG named .png is served as what it is.
    reply = images.upload(cast["owner"], cast["document"], images.jpeg(), filename="photo.png",
                          content_type="image/png")
    assert reply.status == 201, reply.text
    assert reply.json()["content_type"] == "image/jpeg"
    assert cast["viewer"].get(reply.json()["src"]).headers["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize("filename, content_type, data, status, words", [
    ("notes.png", "image/png", b"just some text, not a picture\n" * 10, 415, "not an image"),
    ("logo.svg", "image/svg+xml", images.SVG, 415, "SVG"),
    ("logo.png", "image/png", images.SVG, 415, "SVG"),
    ("broken.png", "image/png", images.noisy_png()[:4000], 422, "damaged"),
    ("empty.png", "image/png", b"", 422, "empty"),
    ("huge.png", "image/png", images.bomb_png(), 422, "dimensions are too large"),
])
def test_what_is_not_an_accepted_image_is_refused(daphne_server, cast, filename, content_type, data, status, words):
    reply = images.upload(cast["editor"], cast["document"], data, filename=filename, content_type=content_type)
    assert reply.status == status, reply.text
    assert words in reply.json()["detail"]


def test_too_large_is_413(daphne_server, cast):
    reply = images.upload(cast["editor"], cast["document"], b"\x89PNG" + bytes(10 * 1024 * 1024))
    assert reply.status == 413, reply.text
    assert "too large" in reply.json()["detail"]


def test_who_may_upload(daphne_server, cast):
    data = images.png()
    assert images.upload(cast["viewer"], cast["document"], data).status == 403
    stranger = images.upload(cast["stranger"], cast["document"], data)
    assert stranger.status == 404 and stranger.json() == {"detail": "No such document"}
    assert images.upload(cast["owner"], uuid.uuid4(), data).status == 404
    for token in (None, "cdt_wrong"):
        assert images.upload(ApiClient(daphne_server.url, token=token), cast["document"], data).status == 401


def test_session_uploads_need_the_csrf_token(daphne_server, cast):
    browser = SessionClient(daphne_server.url, cast["names"]["editor"], cast["names"]["editor"] + "-password")
    refused = images.upload(browser, cast["document"], images.png())
    assert refused.status == 403 and "CSRF" in refused.json()["detail"]
    reply = images.upload(browser, cast["document"], images.png(), headers=browser.csrf_headers())
    assert reply.status == 201, reply.text
    assert browser.get(reply.json()["src"]).status == 200


def test_who_may_see_an_image(daphne_server, cast):
    src = images.upload(cast["owner"], cast["document"], images.png()).json()["src"]
    # No role on the document: the same 404 as an image that does not exist.
    assert cast["stranger"].get(src).status == 404
    assert cast["stranger"].get(src.rsplit("/", 1)[0] + f"/{uuid.uuid4()}").status == 404
    # Anonymous: the sign-in page, coming back here after; a wrong token: 401.
    anonymous = ApiClient(daphne_server.url).get(src)
    assert anonymous.status == 302 and anonymous.headers["Location"].startswith("/accounts/login/?next=")
    assert ApiClient(daphne_server.url, token="cdt_wrong").get(src).status == 401
    # The image belongs to its document: named under another one (which the caller may see), it is not there.
    other = cast["owner"].post("/api/documents/", {"title": "Other"}).json()["id"]
    assert cast["owner"].get(src.replace(cast["document"], other)).status == 404
    # A signed-in session with a role: served.
    viewer = SessionClient(daphne_server.url, cast["names"]["viewer"], cast["names"]["viewer"] + "-password")
    assert viewer.get(src).status == 200
    stranger = SessionClient(daphne_server.url, cast["names"]["stranger"], cast["names"]["stranger"] + "-password")
    assert stranger.get(src).status == 404


def test_a_role_removed_closes_the_image_too(daphne_server, own_cast):
    cast = own_cast
    src = images.upload(cast["owner"], cast["document"], images.png()).json()["src"]
    assert cast["viewer"].get(src).status == 200
    daphne_server.django(
        "from django.contrib.auth import get_user_model\nfrom documents.models import Document\n"
        "from documents.services import membership_set\n"
        f"membership_set(document=Document.objects.get(pk='{cast['document']}'), "
        f"user=get_user_model().objects.get(username='{cast['names']['viewer']}'), role=None)"
    )
    assert cast["viewer"].get(src).status == 404


async def put_images(server, token, document_id, *sources) -> None:
    """Image nodes written into the live document by a y-websocket client, as the editor does."""
    async with synced(YClient(server.document_ws(document_id), token=token)) as client:
        for src in sources:
            client.fragment.children.append(XmlElement("image", {"src": src, "alt": "A [chart]"}))
        # Once the server answers a later sync step 1, it has handled the update (one mailbox, in order).
        frames = client.frames_received
        await client.send(protocol.encode_sync_step1(client.doc.get_state()))
        await client.wait_for(lambda c: c.frames_received > frames)


async def test_exports_embed_or_link_the_images(daphne_server, own_cast):
    cast = own_cast
    document = cast["document"]
    data = images.png(3, 3)
    small = (await asyncio.to_thread(images.upload, cast["editor"], document, data)).json()["src"]
    external = "https://example.org/chart.png"
    await put_images(daphne_server, cast["tokens"][cast["names"]["editor"]], document, small, external,
                     "javascript:alert(1)")

    def exported(fmt):
        return cast["viewer"].export(document, fmt).text

    html = await wait_until(lambda: (text := exported("html")).count("<img") == 2 and text, blocking=True,
                            what="both images in the HTML export")
    assert f'src="data:image/png;base64,{base64.b64encode(data).decode()}"' in html
    assert f'src="{external}"' in html
    assert "javascript" not in html
    markdown = exported("md")
    assert f"![A \\[chart\\]]({daphne_server.url}{small})" in markdown
    assert f"![A \\[chart\\]]({external})" in markdown


def image_files(server) -> list[Path]:
    root = Path(server.env["DATA_DIR"]) / "images"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def test_deleting_the_document_deletes_its_image_files(daphne_server, own_cast):
    cast = own_cast
    src = images.upload(cast["owner"], cast["document"], images.png()).json()["src"]
    image_id = src.rsplit("/", 1)[1]
    assert [p for p in image_files(daphne_server) if image_id in p.name]
    assert cast["owner"].delete(f"/api/documents/{cast['document']}/").status == 204
    assert not [p for p in image_files(daphne_server) if image_id in p.name]
    assert cast["owner"].get(src).status == 404

"""`manage.py clean_images` on a live server's database: images nothing refers to go, the rest stay."""

import asyncio
import uuid
from pathlib import Path

from pycrdt import XmlElement

from collab import protocol
from collab.client import YClient
from tests.api.client import make_cast
from tests.support import images
from tests.support.clients import synced
from tests.support.waits import wait_until


async def written(client: YClient) -> None:
    """Once the server answers a later sync step 1, it has handled what the client sent (one mailbox)."""
    frames = client.frames_received
    await client.send(protocol.encode_sync_step1(client.doc.get_state()))
    await client.wait_for(lambda c: c.frames_received > frames)


def run_clean(server, *extra) -> str:
    return server.django(
        "import io\nfrom django.core.management import call_command\n"
        "buffer = io.StringIO()\n"
        f"call_command('clean_images', *{list(extra)!r}, stdout=buffer)\n"
        "result = buffer.getvalue()\n"
    )


def files_of(server, document) -> set[str]:
    folder = Path(server.env["DATA_DIR"]) / "images" / document
    return {path.stem for path in folder.iterdir()} if folder.exists() else set()


async def test_clean_images_keeps_what_the_document_or_a_kept_version_shows(daphne_server, unique):
    cast = await asyncio.to_thread(make_cast, daphne_server, unique)
    document, owner = cast["document"], cast["owner"]

    async def upload():
        reply = await asyncio.to_thread(images.upload, owner, document, images.png())
        assert reply.status == 201, reply.text
        return reply.json()

    current, in_version, never, fresh = [await upload() for _ in range(4)]
    url = daphne_server.document_ws(document)
    async with synced(YClient(url, token=cast["tokens"][cast["names"]["owner"]])) as client:
        # In the document for a while, long enough to be in a version, which is then named (kept).
        client.fragment.children.append(XmlElement("image", {"src": in_version["src"]}))
        await written(client)

        def version_with_it():
            for version in owner.get(f"/api/documents/{document}/versions/").json()["items"]:
                if in_version["id"] in owner.export(document, "json", version=version["id"]).text:
                    return version
        version = await wait_until(version_with_it, blocking=True, timeout=30, what="a version with the image")
        named = await asyncio.to_thread(owner.patch, f"/api/documents/{document}/versions/{version['id']}/",
                                        {"name": "With the old chart"})
        assert named.status == 200
        # Then replaced: the current document shows another image.
        del client.fragment.children[0]
        client.fragment.children.append(XmlElement("image", {"src": current["src"]}))
        await written(client)

    def newest_shows_current():
        newest = owner.get(f"/api/documents/{document}/versions/").json()["items"][0]
        return current["id"] in owner.export(document, "json", version=newest["id"]).text
    await wait_until(newest_shows_current, blocking=True, timeout=30, what="a version with the current image")

    # Every image but `fresh` is past the grace period; a stray file lies where a deleted document's were.
    stray_document = str(uuid.uuid4())
    await asyncio.to_thread(daphne_server.django, (
        "from datetime import timedelta\nfrom django.core.files.base import ContentFile\n"
        "from django.utils import timezone\nfrom documents.models import Image, image_storage\n"
        f"Image.objects.filter(pk__in={[current['id'], in_version['id'], never['id']]!r})"
        ".update(created_at=timezone.now() - timedelta(days=2))\n"
        f"image_storage().save('{stray_document}/{uuid.uuid4()}.png', ContentFile(b'left over'))\n"
    ))
    assert files_of(daphne_server, stray_document)

    dry = await asyncio.to_thread(run_clean, daphne_server, "--dry-run")
    assert "would delete 1 unreferenced images in 1 documents and 1 files without a document" in dry, dry
    assert never["id"] in dry
    assert files_of(daphne_server, document) == {i["id"] for i in (current, in_version, never, fresh)}

    done = await asyncio.to_thread(run_clean, daphne_server)
    assert "deleted 1 unreferenced images" in done, done
    assert files_of(daphne_server, document) == {i["id"] for i in (current, in_version, fresh)}
    assert not files_of(daphne_server, stray_document)
    assert (await asyncio.to_thread(owner.get, never["src"])).status == 404
    for kept in (current, in_version, fresh):
        assert (await asyncio.to_thread(owner.get, kept["src"])).status == 200

    # Once retention drops the version that showed it, that image goes too.
    await asyncio.to_thread(daphne_server.django, (
        "from documents.models import Snapshot\n"
        f"Snapshot.objects.filter(document_id='{document}', label='With the old chart').delete()\n"
    ))
    again = await asyncio.to_thread(run_clean, daphne_server, "--document", document)
    assert "deleted 1 unreferenced images" in again and in_version["id"] in again, again
    assert files_of(daphne_server, document) == {i["id"] for i in (current, fresh)}

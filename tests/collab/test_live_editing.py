"""Real Daphne, real pycrdt clients over WebSockets, on both set-ups (see conftest)."""

import asyncio
import random

import pytest
import websockets

from collab import codes, protocol
from collab.client import YClient
from tests.support.clients import converge, open_synced, synced
from tests.support.crdt import paragraph


def random_edit(client: YClient, rng: random.Random, tag: str) -> None:
    """One random insert or delete at a random position of a random paragraph."""
    paragraphs = list(client.fragment.children)
    with client.doc.transaction():
        if not paragraphs or rng.random() < 0.1:
            client.fragment.children.insert(rng.randint(0, len(paragraphs)), paragraph(tag))
            return
        text = rng.choice(paragraphs).children[0]
        length = len(text)
        if length > 3 and rng.random() < 0.3:
            start = rng.randrange(length)
            del text[start : min(length, start + rng.randint(1, 3))]
        else:
            text.insert(rng.randint(0, length), f"{tag}{rng.randint(0, 9)}")


@pytest.fixture
def people(daphne_server, unique):
    names = [f"{unique}{n}" for n in ("owner", "ed", "viewer", "stranger")]
    seed = daphne_server.seed(
        users=names,
        documents=[{"owner": names[0], "title": "Shared", "roles": {names[1]: "editor", names[2]: "viewer"}}],
    )
    return {
        "url": daphne_server.document_ws(seed["documents"][0]),
        "doc": seed["documents"][0],
        "owner": seed["tokens"][names[0]],
        "editor": seed["tokens"][names[1]],
        "viewer": seed["tokens"][names[2]],
        "stranger": seed["tokens"][names[3]],
    }


async def test_three_clients_converge_under_random_concurrent_edits(people):
    rng = random.Random(2026)
    clients = [YClient(people["url"], token=people[who]) for who in ("owner", "editor", "owner")]
    await open_synced(*clients)

    async def typist(client, tag):
        for _ in range(300):
            random_edit(client, rng, tag)
            await asyncio.sleep(0)  # let the other clients' edits interleave

    # Tags that cannot occur in the XML markup itself, so that finding one means finding that client's text.
    tags = "XYZ"
    await asyncio.gather(*(typist(c, tag) for c, tag in zip(clients, tags)))
    await converge(clients)
    contents = {str(c.fragment) for c in clients}
    assert len(contents) == 1, "all three clients must end with identical documents"
    text = "".join(str(p.children[0]) for p in clients[0].fragment.children)
    assert all(tag in text for tag in tags), "every client's edits must be in the result"

    async with YClient(people["url"], token=people["editor"]) as late:
        await late.wait_for(lambda c: str(c.fragment) == str(clients[0].fragment))
    for c in clients:
        await c.close()


async def test_viewer_syncs_but_cannot_write(people):
    async with synced(YClient(people["url"], token=people["owner"])) as owner:
        owner.fragment.children.append(paragraph("from the owner"))
        async with YClient(people["url"], token=people["viewer"]) as viewer:
            await viewer.wait_for(lambda c: "from the owner" in c.text())
            viewer.fragment.children.append(paragraph("from the viewer"))
            # The mailbox is FIFO: once the server answers this step 1, it has handled the update.
            await viewer.send(protocol.encode_sync_step1(viewer.doc.get_state()))
            frames = viewer.frames_received
            await viewer.wait_for(lambda c: c.frames_received > frames)
            assert not viewer.closed.is_set(), "a viewer stays connected"
        async with YClient(people["url"], token=people["editor"]) as fresh:
            await fresh.wait_for(lambda c: "from the owner" in c.text())
            assert "from the viewer" not in fresh.text(), "the viewer's update must be refused"
        assert "from the viewer" not in owner.text()


@pytest.mark.parametrize(
    "who, document, expected",
    [
        (None, "doc", codes.NOT_SIGNED_IN),
        ("bad-token", "doc", codes.NOT_SIGNED_IN),
        ("stranger", "doc", codes.NO_ACCESS),
        ("owner", "00000000-0000-4000-8000-000000000000", codes.NO_SUCH_DOCUMENT),
    ],
)
async def test_refusals_close_with_the_documented_code(people, daphne_server, who, document, expected):
    url = people["url"] if document == "doc" else daphne_server.document_ws(document)
    token = {"bad-token": "cdt_not-a-real-token", None: None}.get(who, people.get(who))
    client = YClient(url, token=token)
    await client.connect()
    await asyncio.wait_for(client.closed.wait(), 10)
    assert client.close_code == expected
    assert client.close_reason, "the close frame says why, in words"


async def test_the_document_url_without_the_trailing_slash_works(people):
    # y-websocket joins server URL and room name with "/": new WebsocketProvider("ws://host/ws/documents", id, doc)
    async with synced(YClient(people["url"], token=people["owner"]),
                      YClient(people["url"].rstrip("/"), token=people["editor"])) as (with_slash, without):
        without.fragment.children.append(paragraph("no slash needed"))
        await with_slash.wait_for(lambda c: "no slash needed" in c.text())


@pytest.mark.parametrize("path", ["/ws/nothing-here", "/ws/documents/not-a-uuid/", "/", "/ws/documents/"])
async def test_an_unknown_websocket_path_is_refused_cleanly(daphne_server, people, path):
    headers = {"Authorization": f"Bearer {people['owner']}"}
    log_start = daphne_server.log_path.stat().st_size
    async with websockets.connect(daphne_server.ws_url + path, additional_headers=headers) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd.code == codes.NO_SUCH_DOCUMENT
    assert "/ws/documents/" in closed.value.rcvd.reason
    assert "Traceback" not in daphne_server.log_path.read_bytes()[log_start:].decode(errors="replace")


async def test_malformed_frames_close_only_the_sender(people):
    async with synced(YClient(people["url"], token=people["owner"]),
                      YClient(people["url"], token=people["editor"])) as (a, b):
        for bad, code in [
            (b"\x00\x02\xff\xff", codes.BAD_MESSAGE),
            (protocol.encode_update(b"\x01\x02garbage bytes"), codes.BAD_MESSAGE),
        ]:
            async with synced(YClient(people["url"], token=people["editor"])) as bad_client:
                await bad_client._ws.send(bad)
                await asyncio.wait_for(bad_client.closed.wait(), 10)
                assert bad_client.close_code == code
        a.fragment.children.append(paragraph("a still edits"))
        b.fragment.children.append(paragraph("b still edits"))
        await converge([a, b])
        assert "a still edits" in b.text() and "b still edits" in a.text()


async def test_text_frames_are_refused(people):
    async with synced(YClient(people["url"], token=people["owner"])) as client:
        await client._ws.send("hello")
        await asyncio.wait_for(client.closed.wait(), 10)
        assert client.close_code == codes.BAD_MESSAGE


async def test_presence_reaches_others_and_goes_when_they_leave(people, unique):
    async with synced(YClient(people["url"], token=people["owner"])) as watcher:
        other = YClient(people["url"], token=people["editor"])
        await other.connect()
        await other.synced.wait()
        await other.set_presence({"user": {"username": f"{unique}ed", "name": "Ed", "color": "#e66"}})
        other_id = other.awareness.client_id
        await watcher.wait_for(lambda c: (c.awareness.states.get(other_id) or {}).get("user", {}).get("name") == "Ed")
        await other.close()
        await watcher.wait_for(lambda c: other_id not in c.awareness.states)


async def test_saved_indicator_follows_durable_writes(people):
    async with synced(YClient(people["url"], token=people["owner"])) as client:
        client.fragment.children.append(paragraph("save me"))
        assert not client.saved_covers_own_edits(), "nothing can be saved before the server has it"
        await client.wait_for(lambda c: c.saved_covers_own_edits(), timeout=10)


async def test_origin_from_another_site_is_refused(people):
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(people["url"], origin="http://evil.example",
                                 additional_headers={"Authorization": f"Bearer {people['owner']}"})

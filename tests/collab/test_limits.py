"""Limits and access changes on a live server: each offender gets a clear close code."""

import asyncio
import time

import pytest

from collab import codes, protocol
from collab.client import YClient
from tests.support.clients import closed_with, open_synced, synced
from tests.support.crdt import paragraph
from tests.support.server import own_server

LIMITS = {
    "COLLAB_MAX_DOCUMENT_SIZE": "20000",
    "COLLAB_RATE_LIMIT": "20",
    "COLLAB_RATE_BURST": "40",
    "COLLAB_MAX_CONNECTIONS_PER_DOCUMENT": "3",
    "COLLAB_MAX_CONNECTIONS_PER_USER": "4",
    "COLLAB_HANDSHAKE_TIMEOUT": "1",
}


@pytest.fixture(scope="module")
def limited(backend):
    """One server with small limits per backend (module scope keeps the suite fast)."""
    with own_server(backend, LIMITS) as server:
        yield server


@pytest.fixture
def doc(limited, unique):
    users = [f"{unique}a", f"{unique}b", f"{unique}c"]
    seed = limited.seed(users=users, documents=[{"owner": users[0], "roles": {users[1]: "editor"}}])
    return {"url": limited.document_ws(seed["documents"][0]), "id": seed["documents"][0],
            "tokens": [seed["tokens"][u] for u in users], "users": users}


async def test_an_update_past_the_document_size_is_refused_and_the_document_kept(doc):
    async with synced(YClient(doc["url"], token=doc["tokens"][0]),
                      YClient(doc["url"], token=doc["tokens"][1])) as (big, other):
        big.fragment.children.append(paragraph("small and fine"))
        await other.wait_for(lambda c: "small and fine" in c.text())
        big.fragment.children.append(paragraph("x" * 30000))
        assert await closed_with(big) == codes.TOO_LARGE
        assert "size limit" in big.close_reason
        other.fragment.children.append(paragraph("other still edits"))
        async with YClient(doc["url"], token=doc["tokens"][1]) as fresh:
            await fresh.wait_for(lambda c: "other still edits" in c.text())
            assert "xxxx" not in fresh.text() and "small and fine" in fresh.text()


async def test_a_burst_over_the_message_rate_is_slowed_down_not_closed(doc):
    count, rate, burst = 100, 20, 40  # LIMITS
    async with synced(YClient(doc["url"], token=doc["tokens"][0]),
                      YClient(doc["url"], token=doc["tokens"][1])) as (writer, reader):
        started = time.monotonic()
        for i in range(count):  # one transaction, one message each
            writer.fragment.children.append(paragraph(f"line {i}."))
        await reader.wait_for(lambda c: c.text().count("line ") == count, timeout=60)
        elapsed = time.monotonic() - started
        assert not writer.closed.is_set()
    assert elapsed >= (count - burst) / rate * 0.9, "the messages past the burst wait for the rate"


async def test_a_flooding_sender_is_held_back_and_the_server_stays_well(doc, limited):
    """The server stops reading a socket whose frames pile up: the sender's writes block (TCP)."""
    presence = {"user": {"name": "x" * 10_000}}
    flood = YClient(doc["url"], token=doc["tokens"][0])
    await open_synced(flood)

    async def send_all():
        for _ in range(3000):  # 30 MB: far more than socket buffers and Daphne's inbox hold
            await flood.set_presence(presence)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(send_all(), 5)
    flood._ws.transport.abort()
    async with synced(YClient(doc["url"], token=doc["tokens"][1])):
        pass  # another client still opens the document


async def test_a_single_message_up_to_the_document_limit_is_accepted(doc):
    paste = "p" * 15_000  # one update, under COLLAB_MAX_DOCUMENT_SIZE (20000)
    async with synced(YClient(doc["url"], token=doc["tokens"][0]),
                      YClient(doc["url"], token=doc["tokens"][1])) as (writer, reader):
        writer.fragment.children.append(paragraph(paste))
        await reader.wait_for(lambda c: paste in c.text())
        assert not writer.closed.is_set()


@pytest.mark.parametrize("size", [30_000, 50_000], ids=["over-the-document-limit", "over-daphnes-limit"])
async def test_a_message_over_the_limit_is_refused_with_a_final_code_and_reason(doc, size):
    # Daphne's own limit is twice the document limit (editor/serve.py): past it autobahn
    # answers, below it the consumer; both with 4413 and a reason.
    async with synced(YClient(doc["url"], token=doc["tokens"][0])) as client:
        await client._ws.send(protocol.encode_update(b"\x00" * size))
        assert await closed_with(client) == codes.TOO_LARGE
        assert "size limit" in client.close_reason


async def test_connections_per_document_are_capped(doc):
    clients = [YClient(doc["url"], token=doc["tokens"][i % 2]) for i in range(3)]
    await open_synced(*clients)
    async with YClient(doc["url"], token=doc["tokens"][1]) as one_too_many:
        assert await closed_with(one_too_many) == codes.TOO_MANY_CONNECTIONS
    for c in clients:
        await c.close()


async def test_a_socket_that_never_syncs_is_closed(doc):
    import websockets

    async with websockets.connect(doc["url"], additional_headers={"Authorization": f"Bearer {doc['tokens'][0]}"}) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd.code == codes.HANDSHAKE_TIMEOUT


async def test_revoking_a_token_closes_its_open_sockets(doc, limited):
    user = doc["users"][2]
    extra = limited.django(
        "from django.contrib.auth import get_user_model\nfrom documents.services import token_create, membership_set\n"
        "from documents.models import Document\n"
        f"u = get_user_model().objects.get(username='{user}')\n"
        f"membership_set(document=Document.objects.get(pk='{doc['id']}'), user=u, role='viewer')\n"
        "t, raw = token_create(user=u, name='to revoke')\nresult = [t.pk, raw]"
    )
    token_id, raw = extra
    async with synced(YClient(doc["url"], token=raw)) as client:
        limited.django(
            "from documents.models import ApiToken\nfrom documents.services import token_revoke\n"
            f"token_revoke(token=ApiToken.objects.get(pk={token_id}))"
        )
        assert await closed_with(client) == codes.NOT_SIGNED_IN


async def test_removing_a_role_closes_the_users_sockets(doc, limited):
    async with synced(YClient(doc["url"], token=doc["tokens"][1])) as client:
        limited.django(
            "from django.contrib.auth import get_user_model\nfrom documents.services import membership_set\n"
            "from documents.models import Document\n"
            f"membership_set(document=Document.objects.get(pk='{doc['id']}'), "
            f"user=get_user_model().objects.get(username='{doc['users'][1]}'), role=None)"
        )
        assert await closed_with(client) == codes.NO_ACCESS

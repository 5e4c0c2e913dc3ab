"""The send path: every frame a client must receive reaches it, or its socket is closed with a code.

In-process tests drive a Connection over a fake ASGI send that fails the way
Daphne's does; live tests open a document over 4 MiB (Daphne's old outbound
limit) on one process and through a non-owner process of a cluster, and
disconnect clients in the middle of sends.
"""

import asyncio
import gc
import logging
import types

from autobahn.exception import Disconnected, PayloadExceededError
from channels.exceptions import ChannelFull

from collab import codes
from collab.client import YClient
from collab.cluster import RemoteSubscriber
from collab.consumer import Connection
from tests.support.clients import synced
from tests.support.cluster import lease_owner_port
from tests.support.crdt import paragraph
from tests.support.rawws import CLOSE_1000, never_reading, read_until_closed

# Larger than 4 MiB, the outbound limit Daphne had. editor/serve.py now sets Daphne's limits
# to 2 × COLLAB_MAX_DOCUMENT_SIZE (32 MiB by default), so the default server sends it whole.
BIG = 4_700_000


# --- a Connection over a send that fails --------------------------------------------------


class FakeConsumer:
    """What a Connection uses of its consumer; `base_send` fails with `error` after `ok` frames."""

    def __init__(self, error: Exception | None = None, ok: int = 0, send_buffer_bytes: int = 1 << 20):
        self.config = types.SimpleNamespace(send_buffer_bytes=send_buffer_bytes)
        self.sent: list[bytes] = []
        self.closes: list[int] = []
        self.error, self.ok = error, ok
        self.release = asyncio.Event()
        self.release.set()

    async def base_send(self, message):
        await self.release.wait()
        if self.error is not None and len(self.sent) >= self.ok:
            raise self.error
        self.sent.append(message["bytes"])

    async def close(self, code, reason=""):
        self.closes.append(code)


USER = types.SimpleNamespace(pk=1, get_username=lambda: "ann")


async def settle():
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_frame_over_the_servers_send_limit_closes_the_connection_with_a_final_code():
    consumer = FakeConsumer(PayloadExceededError("tried to send WebSocket message with size 5000000"), ok=1)
    connection = Connection(consumer, USER, True, queue_limit=100)
    connection.send(b"small")
    connection.send(b"x" * 5_000_000)
    connection.send(b"after")
    await settle()
    assert consumer.sent == [b"small"]
    assert consumer.closes == [codes.TOO_LARGE], "a frame that cannot be sent must close with a code, not vanish"
    assert connection.closed


async def test_a_client_gone_mid_send_is_forgotten_without_an_error(caplog):
    consumer = FakeConsumer(Disconnected("Attempt to send on a closed protocol"))
    connection = Connection(consumer, USER, True, queue_limit=100)
    with caplog.at_level(logging.WARNING):
        connection.send(b"frame")
        await settle()
        gc.collect()  # an unretrieved task exception is logged when the task is collected
        await settle()
    assert connection.closed, "nothing more is sent to a client that left"
    assert consumer.closes == [], "its disconnect is already on the way"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_any_other_send_error_closes_the_connection_for_a_resync(caplog):
    consumer = FakeConsumer(RuntimeError("unexpected"))
    connection = Connection(consumer, USER, True, queue_limit=100)
    with caplog.at_level(logging.ERROR):
        connection.send(b"frame")
        await settle()
    assert consumer.closes == [codes.TRY_AGAIN_LATER]
    assert "could not send" in caplog.text, "an unexpected failure is logged with its traceback"


async def test_the_send_buffer_is_bounded_in_bytes_beyond_the_largest_frame():
    consumer = FakeConsumer(send_buffer_bytes=100_000)
    consumer.release.clear()  # a client that does not read: the first frame's send never returns
    connection = Connection(consumer, USER, True, queue_limit=10_000)
    connection.send(b"x" * 10)
    await settle()  # the drain took it and waits on the socket
    connection.send(b"d" * 1_000_000)  # one frame larger than the budget (a whole document) fits
    for _ in range(9):
        connection.send(b"u" * 10_000)
    await settle()
    assert not connection.closed and consumer.closes == []
    for _ in range(2):
        connection.send(b"u" * 10_000)
    await settle()
    assert consumer.closes == [codes.TRY_AGAIN_LATER], "past the budget the client is closed and resyncs"


async def test_a_batch_the_channel_layer_refuses_closes_the_forwarded_connection():
    """On the owner: frames for a connection of another process that cannot be forwarded."""
    sent = []

    async def cluster_send(channel, message):  # Cluster.send: the channel layer's, bounded
        if message["type"] == "collab.frames":
            raise ChannelFull()
        sent.append((channel, message))

    config = types.SimpleNamespace(send_queue_limit=100, send_buffer_bytes=1 << 20)
    fake_cluster = types.SimpleNamespace(registry=types.SimpleNamespace(config=config), remote_subscribers={},
                                         send=cluster_send)
    subscriber = RemoteSubscriber(fake_cluster, {"sid": "specific.x!y", "username": "ann", "can_write": True,
                                                 "process": "specific.x!"})
    subscriber.send(b"frame")
    await settle()
    assert [(c, m["type"], m["code"]) for c, m in sent] == [("specific.x!y", "collab.close", codes.TRY_AGAIN_LATER)]


# --- live ---------------------------------------------------------------------------------

async def grow_past_4_mib(url: str, token: str) -> str:
    """One script update that makes the document larger than 4 MiB; returns the text it wrote."""
    text = "".join(f"{i:07d} " for i in range(BIG // 8))
    async with synced(YClient(url, token=token)) as writer:
        writer.fragment.children.append(paragraph(text))
        await writer.wait_for(lambda c: c.saved_covers_own_edits(), 60)
        assert not writer.closed.is_set(), f"the update was refused ({writer.close_code})"
    return text


async def test_a_document_over_4_mib_opens_in_a_fresh_client(server_factory):
    server = server_factory().start()
    seed = server.seed(users=["big"], documents=[{"owner": "big"}])
    url, token = server.document_ws(seed["documents"][0]), seed["tokens"]["big"]
    text = await grow_past_4_mib(url, token)
    async with YClient(url, token=token) as fresh:
        await asyncio.wait_for(asyncio.wait([asyncio.ensure_future(fresh.synced.wait()),
                                             asyncio.ensure_future(fresh.closed.wait())],
                                            return_when=asyncio.FIRST_COMPLETED), 60)
        assert fresh.synced.is_set(), f"the fresh client must sync, not be closed ({fresh.close_code})"
        assert text in fresh.text()


async def test_a_document_over_4_mib_opens_through_a_process_that_does_not_own_it(cluster):
    servers = cluster(2)
    seed = servers[0].seed(users=["big"], documents=[{"owner": "big"}])
    doc, token = seed["documents"][0], seed["tokens"]["big"]
    text = await grow_past_4_mib(servers[0].document_ws(doc), token)
    # The writer left: keep the actor on its owner while a client joins elsewhere.
    owner = next(s for s in servers if s.port == lease_owner_port(servers, doc))
    other = next(s for s in servers if s is not owner)
    async with synced(YClient(owner.document_ws(doc), token=token)) as keeper:
        async with YClient(other.document_ws(doc), token=token) as fresh:
            done = [asyncio.ensure_future(fresh.synced.wait()), asyncio.ensure_future(fresh.closed.wait())]
            await asyncio.wait_for(asyncio.wait(done, return_when=asyncio.FIRST_COMPLETED), 60)
            assert fresh.synced.is_set(), f"the forwarded client must sync, not be closed ({fresh.close_code})"
            assert text in fresh.text()
            # And an edit travels back and forth through the forwarding.
            fresh.fragment.children.append(paragraph("from the forwarded side"))
            await keeper.wait_for(lambda c: "from the forwarded side" in c.text(), 30)
    assert lease_owner_port(servers, doc) == owner.port, "the document stayed on its owner (it was forwarded)"


async def test_a_client_leaving_in_the_middle_of_sends_logs_no_error(server_factory):
    """The client's close frame makes the server's protocol closing while it still has frames to send."""
    server = server_factory().start()
    seed = server.seed(users=["w", "r"], documents=[{"owner": "w", "roles": {"r": "editor"}}])
    url = server.document_ws(seed["documents"][0])
    async with synced(YClient(url, token=seed["tokens"]["w"])) as writer:
        leaving = await never_reading(url, seed["tokens"]["r"])

        async def write(count):
            for i in range(count):
                writer.fragment.children.append(paragraph(f"{i:06d}" * 10_000))
            await writer.wait_for(lambda c: c.saved_covers_own_edits(), 30)

        await write(150)  # 9 MB the leaving client has not read: past the kernel's buffers, some wait in the server
        leaving.transport.write(CLOSE_1000)  # it says goodbye, still without reading
        await write(40)  # the server goes on sending to it until the socket is gone
        await asyncio.wait_for(read_until_closed(leaving), 30)
    log = server.log()
    assert "Traceback" not in log and "ERROR" not in log, f"leaving mid-send must log no error:\n{log[-3000:]}"

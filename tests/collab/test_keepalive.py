"""Keep-alive on a live server: a peer that stops answering pings is dropped, one that answers stays.

editor/serve.py checks sockets' timeouts from a wheel of 2-second slots (only
those due) instead of sweeping every socket every 2 s; this is what that
must keep: silence for COLLAB_PING_INTERVAL brings a ping, and no answer
within COLLAB_PING_TIMEOUT drops the socket.
"""

import socket
import struct

import pytest

from collab.client import YClient
from tests.support.crdt import paragraph
from tests.support.rawws import never_reading
from tests.support.server import own_server
from tests.support.waits import wait_until

TCP_CLOSE, TCP_CLOSE_WAIT = 7, 8


@pytest.fixture(scope="module")
def pinging(backend):
    with own_server(backend, {"COLLAB_PING_INTERVAL": "1", "COLLAB_PING_TIMEOUT": "2"}) as server:
        yield server


def tcp_state(sock: socket.socket) -> int:
    """The kernel's state of a TCP socket (tcpi_state, the first byte of TCP_INFO)."""
    return struct.unpack("B", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1))[0]


async def test_a_silent_peer_is_dropped_and_an_answering_one_kept(pinging, unique):
    users = [f"{unique}a", f"{unique}b"]
    seed = pinging.seed(users=users, documents=[{"owner": users[0], "roles": {users[1]: "editor"}}])
    url = pinging.document_ws(seed["documents"][0])
    async with YClient(url, token=seed["tokens"][users[0]]) as answering:
        await answering.synced.wait()
        silent = await never_reading(url, seed["tokens"][users[1]])  # joins, then reads nothing: no pong
        sock = silent.transport.get_extra_info("socket")
        # Pinged after 1 s of silence (at the next 2-second tick), dropped 2 s later: well within 15 s.
        await wait_until(lambda: tcp_state(sock) in (TCP_CLOSE, TCP_CLOSE_WAIT), timeout=15,
                         what="the server to drop the peer that does not answer its pings")
        assert not answering.closed.is_set(), "a client that answers pings stays connected"
        answering.fragment.children.append(paragraph("still here"))
        await answering.wait_for(lambda c: c.saved_covers_own_edits(), 15)

"""The socket under a Connection: frames written straight to autobahn's protocol, and its backpressure.

A real autobahn server protocol over Twisted's StringTransport: what the
gate writes must be byte for byte what autobahn itself would send, and what
a Connection hands on must reach the socket at once while the transport
takes it, in order once it did not.
"""

import asyncio
import functools
import types

import pytest
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

from collab import codes
from collab.consumer import Connection, TokenBucket
from collab.subscriber import PeerGone, SendFailed
from collab.transport import TransportGate

LIMIT = 1 << 20


def opened_socket(**options):
    """An autobahn server protocol in the open state over a StringTransport (what Daphne's sockets are)."""
    factory = WebSocketServerFactory()
    factory.protocol = WebSocketServerProtocol
    factory.setProtocolOptions(maxMessagePayloadSize=LIMIT, **options)
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.state = protocol.STATE_OPEN
    transport.clear()
    return protocol, transport


async def asgi_send(protocol, message):
    """Stands for Daphne's `functools.partial(Server.handle_reply, protocol)`."""
    protocol.sendMessage(message["bytes"], True)


def gate_on(protocol) -> TransportGate:
    return TransportGate.attach(functools.partial(asgi_send, protocol))


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 300_000])
def test_a_frame_is_written_as_autobahn_writes_it(size):
    ours, ours_wire = opened_socket()
    theirs, their_wire = opened_socket()
    gate_on(ours).write([b"y" * size])
    theirs.sendMessage(b"y" * size, True)
    assert ours_wire.value() == their_wire.value()


def test_with_fragmentation_configured_autobahn_frames_the_message():
    ours, ours_wire = opened_socket(autoFragmentSize=100)
    theirs, their_wire = opened_socket(autoFragmentSize=100)
    gate_on(ours).write([b"z" * 250])
    theirs.sendMessage(b"z" * 250, True)
    assert ours_wire.value() == their_wire.value()
    assert ours_wire.value()[0] == 0x02, "the first of several fragments (FIN clear)"


def test_a_frame_over_the_limit_fails_with_a_final_code_after_the_ones_before_it():
    protocol, wire = opened_socket()
    with pytest.raises(SendFailed) as failed:
        gate_on(protocol).write([b"ok", b"x" * (LIMIT + 1)])
    assert failed.value.code == codes.TOO_LARGE
    assert wire.value() == b"\x82\x02ok"


def test_a_socket_that_is_closing_takes_nothing_and_is_just_forgotten():
    protocol, wire = opened_socket()
    gate = gate_on(protocol)
    protocol.state = protocol.STATE_CLOSING
    with pytest.raises(PeerGone):
        gate.write([b"late"])
    assert wire.value() == b""


# --- a Connection over a real protocol ----------------------------------------------------


class Consumer:
    def __init__(self, protocol):
        self.config = types.SimpleNamespace(send_buffer_bytes=1 << 20)
        self.base_send = functools.partial(asgi_send, protocol)
        self.closes = []

    async def close(self, code, reason=""):
        self.closes.append(code)


USER = types.SimpleNamespace(pk=1, get_username=lambda: "ann")


async def test_a_frame_reaches_the_socket_at_once_without_a_task():
    protocol, wire = opened_socket()
    connection = Connection(Consumer(protocol), USER, True, queue_limit=100)
    tasks = len(asyncio.all_tasks())
    connection.send(b"now")
    assert wire.value() == b"\x82\x03now", "written during send(), not later by a task"
    assert len(asyncio.all_tasks()) == tasks


async def test_behind_a_full_transport_frames_wait_and_follow_in_order():
    protocol, wire = opened_socket()
    connection = Connection(Consumer(protocol), USER, True, queue_limit=100)
    connection.send(b"a" * 70_000)
    # Over its 64 KiB a TCP transport pauses its producer, our gate (StringTransport does not: we do it).
    protocol.transport.producer.pauseProducing()
    connection.send(b"b")
    connection.send(b"c")
    await asyncio.sleep(0)
    assert wire.value().endswith(b"a" * 1000), "nothing more is handed on while the transport is full"
    wire.clear()
    protocol.transport.producer.resumeProducing()  # what the transport does once its buffer drained
    for _ in range(3):
        await asyncio.sleep(0)
    assert wire.value() == b"\x82\x01b\x82\x01c"
    connection.send(b"d")
    assert wire.value().endswith(b"\x82\x01d"), "with the queue empty again, frames go straight through"


async def test_a_peer_gone_at_a_direct_write_is_forgotten_quietly():
    protocol, wire = opened_socket()
    consumer = Consumer(protocol)
    connection = Connection(consumer, USER, True, queue_limit=100)
    protocol.state = protocol.STATE_CLOSED
    connection.send(b"late")
    await asyncio.sleep(0)
    assert connection.closed and consumer.closes == []


# --- the rate limit's fast path ------------------------------------------------------------


def test_the_token_bucket_gives_its_burst_at_once_and_then_refuses_without_waiting():
    bucket = TokenBucket(rate=0.001, burst=3)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]


async def test_a_token_bucket_that_is_empty_waits_for_its_rate():
    bucket = TokenBucket(rate=200, burst=1)
    assert bucket.try_take()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bucket.take()
    assert loop.time() - started >= 0.004, "one token comes after 1/rate seconds"


# --- a real TCP transport: frames go to the socket at once, in order when it fills ------------


def tcp_socket(loop):
    """An autobahn protocol on a real Twisted TCP connection (one end of a socket pair), and the other end."""
    import socket

    from twisted.internet import tcp
    from twisted.internet.asyncioreactor import AsyncioSelectorReactor

    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.setblocking(False)
    factory = WebSocketServerFactory()
    factory.protocol = WebSocketServerProtocol
    factory.setProtocolOptions(maxMessagePayloadSize=64 << 20)
    address = IPv4Address("TCP", "127.0.0.1", 40000)
    protocol = factory.buildProtocol(address)
    port = types.SimpleNamespace(_realPortNumber=8000)  # what tcp.Server reads of its listening Port
    transport = tcp.Server(ours, protocol, ("127.0.0.1", 40000), port, 1, AsyncioSelectorReactor(loop))
    protocol.makeConnection(transport)
    protocol.state = protocol.STATE_OPEN
    return protocol, transport, theirs


def frame(payload: bytes) -> bytes:
    theirs, wire = opened_socket()
    theirs.sendMessage(payload, True)
    return wire.value()


async def test_on_a_tcp_socket_a_frame_is_sent_during_the_write_without_a_turn_of_the_loop():
    # Twisted buffers every write until the loop reports the socket writable: two epoll
    # changes and a turn of the loop per frame, most of the fan-out's cost with many sockets.
    protocol, transport, peer = tcp_socket(asyncio.get_running_loop())
    try:
        gate_on(protocol).write([b"now", b"and this"])
        assert peer.recv(100) == frame(b"now") + frame(b"and this")
        assert transport not in transport.reactor.getWriters(), "nothing left for the loop to write"
    finally:
        transport.loseConnection()
        peer.close()


async def test_on_a_full_tcp_socket_the_rest_follows_in_order_once_it_drains():
    protocol, transport, peer = tcp_socket(asyncio.get_running_loop())
    big = bytes(range(256)) * 3_500  # 896 KB: more than a socket pair's buffers take at once
    try:
        gate = gate_on(protocol)
        gate.write([big])
        gate.write([b"after"])
        expected = frame(big) + frame(b"after")
        received = bytearray()
        loop = asyncio.get_running_loop()
        while len(received) < len(expected):  # meanwhile the loop writes what the socket did not take
            received += await loop.sock_recv(peer, 1 << 20)
        assert bytes(received) == expected
    finally:
        transport.loseConnection()
        peer.close()

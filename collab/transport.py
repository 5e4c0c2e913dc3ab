"""The socket under a Connection, as Daphne runs it: write backpressure, and what a failed send means.

Daphne's ASGI `send` has no backpressure: `websocket.send` hands the frame to
autobahn, which writes it into the Twisted transport at once and returns.
The transport buffers what the peer has not read yet without limit, so a
client that never reads made the server hold everything sent to it (issue
11: 133 MiB for one such reader, 424 MiB for ten, in 40 s).

Twisted's own flow control is the IConsumer / IPushProducer pair: a streaming
producer registered on a transport is paused when the transport's buffer
passes its `bufferSize` (64 KiB) and resumed once the buffer is empty. A
TransportGate is that producer for one socket: the Connection stops handing
frames to the transport while it is paused, so they wait in the Connection's
queue, where they are counted in bytes and bounded (see QueuedSubscriber).
This uses only Twisted's public producer interface; the one thing taken from
Daphne's internals is where the transport is: Daphne's `send` is
`functools.partial(Server.handle_reply, protocol)`, and we read the
protocol from it. If `send` is anything else (another ASGI server, a
wrapping middleware), there is no gate and only the queue is counted.

The alternatives were worse: reading the transport's private buffer
attributes (`_tempDataLen`, `dataBuffer`, `offset`), or the kernel's
(SIOCOUTQ), which is not where the bytes pile up.

The gate also writes. The ASGI `send` is a coroutine: the caller needs a
task to await it, one per frame, which was most of the fan-out's cost (a
typing burst sends one frame to each of fifty sockets; an idle document
renews the server's awareness entry on every socket). The gate writes to
the protocol synchronously instead, and in the plain case (checked per
write from autobahn's own settings) frames the message itself: the header
of RFC 6455 §5.2 and the payload, into the transport. That reads a few
autobahn attributes (its negotiated compression, its send state); if they
are missing (another autobahn), there is no gate and the ASGI path is used.

And on a plain TCP socket with nothing waiting in Twisted's buffer, the
gate sends the bytes itself (`socket.send`, as libuv's try-write does for
Node) and hands the transport only what the kernel did not take. Twisted
buffers every write until the loop reports the socket writable: two epoll
changes and a turn of the loop per frame and socket, the largest single
cost of the fan-out with many documents (bench/results/profile-many-docs).
Order is kept because the direct send happens only while Twisted holds
nothing; an error leaves the bytes to Twisted, which finds it its own way.
"""

import asyncio
import functools

from autobahn.exception import Disconnected, PayloadExceededError
from twisted.internet import tcp
from twisted.internet.interfaces import IConsumer, IPushProducer
from zope.interface import implementer

from . import codes
from .subscriber import PeerGone, SendFailed

__all__ = ["TransportGate", "send_error"]


@implementer(IPushProducer)
class TransportGate:
    """One socket's Daphne protocol and the streaming producer of its transport.

    Open (not `paused`) while the transport can take more. `write` hands
    frames to the protocol at once, without the ASGI `send` coroutine: the
    same `sendMessage` Daphne would call, minus a task per frame for the
    caller. Slotted and without an Event: an idle socket holds this and
    nothing more; a future exists only while someone waits for a resume.
    """

    __slots__ = ("_protocol", "_direct", "paused", "held", "largest", "_resumed")

    def __init__(self, protocol=None):
        self._protocol = protocol
        # A plain TCP socket (not TLS, not a test's transport): bytes may go to it directly.
        self._direct = _direct(getattr(protocol, "transport", None))
        self.paused = False
        # Bytes (and the largest frame) handed to the transport since it last went over its
        # high-water mark; an upper bound of what it holds beyond its own 64 KiB.
        self.held = 0
        self.largest = 0
        self._resumed: asyncio.Future | None = None

    @classmethod
    def attach(cls, send) -> "TransportGate | None":
        """Register a gate on the transport under Daphne's `send`; None if there is none to find."""
        protocol = send.args[0] if isinstance(send, functools.partial) and send.args else None
        transport = getattr(protocol, "transport", None)
        if transport is None or not IConsumer.providedBy(transport):
            return None
        try:
            _plain(protocol)
            protocol.sendMessage, protocol.state, protocol.STATE_OPEN, protocol.maxMessagePayloadSize
        except AttributeError:
            return None
        # Daphne leaves the HTTP channel registered as the producer after the upgrade to
        # WebSocket; its hooks do nothing there (its request never finishes), so ours replaces it.
        if getattr(transport, "producer", None) is not None:
            transport.unregisterProducer()
        gate = cls(protocol)
        try:
            transport.registerProducer(gate, True)
        except RuntimeError:  # a transport that keeps its producer elsewhere (TLS): no gate
            return None
        return gate

    def write(self, frames) -> None:
        """Write binary frames to the socket now; raises PeerGone or SendFailed (see send_error).

        What Daphne's `websocket.send` does (the socket was accepted before
        any Connection exists), synchronously, and for the plain case (no
        compression, fragmentation or masking negotiated or configured,
        nothing queued in autobahn) without autobahn's per-message layers:
        one unfragmented binary frame, RFC 6455 §5.2, into the transport's
        buffer (no system call here). Anything else goes through autobahn.
        """
        protocol = self._protocol
        try:
            if protocol.state != protocol.STATE_OPEN:
                raise Disconnected("the socket is closing or closed")
            if not _plain(protocol):
                for frame in frames:
                    protocol.sendMessage(frame, True)
                return
            limit = protocol.maxMessagePayloadSize
            transport = protocol.transport
            wire = []
            try:
                for frame in frames:
                    size = len(frame)
                    if 0 < limit < size:
                        raise PayloadExceededError(f"a message of {size} bytes is over the limit of {limit}")
                    if size < 126:
                        wire.append(bytes((0x82, size)))
                    elif size < 0x10000:
                        wire.append(b"\x82\x7e" + size.to_bytes(2, "big"))
                    else:
                        wire.append(b"\x82\x7f" + size.to_bytes(8, "big"))
                    wire.append(frame)
            finally:  # the frames before one over the limit are sent
                if wire:
                    if self._direct:
                        _send(transport, wire)
                    else:
                        transport.writeSequence(wire)
        except Exception as exc:
            error = send_error(exc)
            if error is exc:
                raise
            raise error from exc
        finally:
            self.handed(frames)

    async def wait_writable(self) -> None:
        """Return once the transport takes more (at once if it does now)."""
        while self.paused:
            resumed = self._resumed
            if resumed is None or resumed.done():
                resumed = self._resumed = asyncio.get_running_loop().create_future()
            await resumed

    def handed(self, frames) -> None:
        """Frames were just written to the transport."""
        if self.paused:
            self.held += sum(map(len, frames))
            self.largest = max(self.largest, *map(len, frames))

    # --- IPushProducer: called by the transport ---------------------------------------------

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.held = self.largest = 0
        self.paused = False
        resumed, self._resumed = self._resumed, None
        if resumed is not None and not resumed.done():
            resumed.set_result(None)

    def stopProducing(self) -> None:
        # The connection is gone: let the drain run on and find it closed.
        self.resumeProducing()


def _direct(transport) -> bool:
    """Whether the gate may send to this transport's socket itself (see the module's docstring)."""
    if type(transport) is not tcp.Server:
        return False
    try:
        transport.socket, transport.dataBuffer, transport.offset, transport._tempDataLen
        transport.connected, transport.disconnecting, transport._writeDisconnected
    except AttributeError:  # another Twisted
        return False
    return True


def _send(transport, wire: list) -> None:
    """Send `wire` (a list of bytes) on a tcp.Server at once; what the socket does not take goes to its buffer."""
    if (transport._tempDataLen or transport.offset != len(transport.dataBuffer) or not transport.connected
            or transport.disconnecting or transport._writeDisconnected):
        transport.writeSequence(wire)  # bytes already wait there: after them, in order
        return
    data = b"".join(wire) if len(wire) > 1 else wire[0]
    try:
        sent = transport.socket.send(data)
    except (BlockingIOError, InterruptedError):
        sent = 0
    except OSError:  # a reset or closed peer: Twisted's own write finds it and closes the connection
        sent = 0
    if sent < len(data):
        transport.write(memoryview(data)[sent:].tobytes() if sent else data)


def _plain(protocol) -> bool:
    """Whether a binary message to this autobahn protocol is one plain frame, and may be written as such."""
    return (protocol._perMessageCompress is None and not protocol.send_queue
            and protocol.send_state == protocol.SEND_STATE_GROUND and not protocol.autoFragmentSize
            and not protocol.maskServerFrames and not protocol.logFrames and protocol.trackedTimings is None)


def send_error(exc: Exception) -> Exception:
    """What a failed `websocket.send` means for the connection (PeerGone, SendFailed, or exc itself)."""
    if isinstance(exc, Disconnected):
        # The peer's close or disconnect raced our send: Daphne's disconnect event follows.
        return PeerGone()
    if isinstance(exc, PayloadExceededError):
        # Over Daphne's outbound message limit: the same frame would fail again after a
        # reconnect, so the code is final.
        return SendFailed(codes.TOO_LARGE, "a message to this client is over the server's size limit")
    return exc

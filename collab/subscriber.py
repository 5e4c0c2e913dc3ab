"""What the actor needs from whoever subscribes to a document, and the common queued kind."""

import asyncio
import logging
import uuid
from typing import Protocol

from . import codes

logger = logging.getLogger(__name__)


class Subscriber(Protocol):
    # Unique among the actor's subscribers; used as the Yjs transaction origin.
    sid: str
    # Recorded as an author of the next version when this subscriber edits.
    username: str
    # False for viewers: their updates are refused.
    can_write: bool

    def send(self, frame: bytes) -> None:
        """Queue a frame for the peer. Must not block; may close a peer that is too slow."""

    def close(self, code: int, reason: str = "") -> None:
        """Close the peer's connection with a WebSocket close code."""


class SendFailed(Exception):
    """A frame could not be handed on; the peer is closed with `code` (and `reason`)."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


class PeerGone(Exception):
    """The peer went away while frames were being sent: nothing to close, nothing to report."""


class QueuedSubscriber:
    """A Subscriber whose frames go through a bounded queue, drained by a task while it is not empty.

    The actor never waits on a peer: `send` only appends, or hands the frame
    on at once when the subclass can do that without waiting (`_write_now`:
    the peer takes it now and nothing is queued before it). A peer is closed
    (4013, it resyncs on reconnect) when it falls `queue_limit` frames behind,
    or when the bytes held for it (queued here, plus what the subclass says
    is still held downstream, e.g. in the socket's write buffer) exceed
    `buffer_bytes` beyond the largest single frame among them. The largest
    frame is exempt so that one frame of any size the server must send (a
    sync step 2 carrying the whole document) always fits; what a client that
    does not read can pin is one such frame plus `buffer_bytes`.

    The queue and its drain task exist only while frames are pending: an idle
    socket costs no task and no buffer (slotted: a connection is held by
    thousands). A frame that cannot be handed on closes the peer with a code
    (never a silent drop). Subclasses say how a batch of frames reaches the
    peer, when the peer can take more, and how it is closed.
    """

    __slots__ = ("sid", "username", "can_write", "closed", "_limit", "_buffer_bytes", "_pending",
                 "_queued_bytes", "_largest_queued", "_pump")

    def __init__(self, *, sid: str | None, username: str, can_write: bool, queue_limit: int,
                 buffer_bytes: int = 8 * 1024 * 1024):
        self.sid = sid or uuid.uuid4().hex
        self.username = username
        self.can_write = can_write
        self.closed = False
        self._limit = queue_limit
        self._buffer_bytes = buffer_bytes
        self._pending: list[bytes] | None = None  # frames waiting for the drain task (None: none)
        self._queued_bytes = 0
        self._largest_queued = 0
        self._pump: asyncio.Task | None = None

    def send(self, frame: bytes) -> None:
        if self.closed:
            return
        if self._pending is None:
            try:
                if self._write_now(frame):
                    return
            except Exception as exc:
                self._failed(exc)
                return
            self._pending = []
        if len(self._pending) >= self._limit:
            self.close(codes.TRY_AGAIN_LATER, "too slow: too many messages waiting, reconnect")
            return
        size = len(frame)
        downstream, largest_downstream = self._held_downstream()
        held = self._queued_bytes + size + downstream
        if held - max(self._largest_queued, size, largest_downstream) > self._buffer_bytes:
            self.close(codes.TRY_AGAIN_LATER, f"too slow: {held} bytes waiting, reconnect")
            return
        self._pending.append(frame)
        self._queued_bytes += size
        self._largest_queued = max(self._largest_queued, size)
        if self._pump is None:
            self._pump = asyncio.get_running_loop().create_task(self._drain())

    def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.stop()
        asyncio.get_running_loop().create_task(self._close_quietly(code, reason))

    async def aclose(self, code: int, reason: str = "") -> None:
        """close(), returning once the close is sent (a process about to exit waits for it)."""
        if self.closed:
            return
        self.stop()
        await self._close_quietly(code, reason)

    async def _close_quietly(self, code: int, reason: str) -> None:
        try:
            await self._close_peer(code, reason)
        except Exception as exc:  # the peer is gone too, or unreachable: nothing more to tell it
            logger.warning("could not close a subscriber with %s (%s): %r", code, reason, exc)

    def stop(self) -> None:
        """Stop delivering (the peer went away, or is being closed)."""
        self.closed = True
        self._pending = None
        self._queued_bytes = self._largest_queued = 0
        if self._pump is not None and self._pump is not asyncio.current_task():
            self._pump.cancel()
        self._pump = None

    def _failed(self, exc: Exception) -> None:
        """A hand-over failed: forget a peer that left, close the others with a code."""
        if isinstance(exc, PeerGone):
            self.stop()  # its disconnect is on the way and cleans up
        elif isinstance(exc, SendFailed):
            logger.warning("closing a subscriber with %s: %s", exc.code, exc.reason)
            self.close(exc.code, exc.reason)
        else:
            # Never a silent drop: the peer would miss frames and diverge without knowing.
            logger.error("could not send to a subscriber; closing it", exc_info=exc)
            self.close(codes.TRY_AGAIN_LATER, "could not send, reconnect")

    async def _drain(self) -> None:
        try:
            while self._pending and not self.closed:
                await self._writable()
                if self.closed:
                    break
                frames, self._pending = self._pending, []
                self._queued_bytes = self._largest_queued = 0
                await self._deliver(frames)
            self._pending = None  # empty: the next frame may go straight through again
        except Exception as exc:
            self._failed(exc)
        finally:
            if self._pump is asyncio.current_task():
                self._pump = None

    def _write_now(self, frame: bytes) -> bool:
        """Hand one frame on now if the peer takes it without waiting; False: queue it.

        Called only while nothing is queued (order is kept). Raises like `_deliver`.
        """
        return False

    def _held_downstream(self) -> tuple[int, int]:
        """(bytes, largest frame) already handed on but not yet taken by the peer; (0, 0) if unknown."""
        return 0, 0

    async def _writable(self) -> None:
        """Return when the peer can take more frames (immediately by default)."""

    async def _deliver(self, frames: list[bytes]) -> None:
        """Hand the frames on; raise PeerGone or SendFailed (or anything: closed with 4013)."""
        raise NotImplementedError("subclasses of QueuedSubscriber must provide _deliver()")

    async def _close_peer(self, code: int, reason: str) -> None:
        raise NotImplementedError("subclasses of QueuedSubscriber must provide _close_peer()")

"""What the actor needs from whoever subscribes to a document, and the common queued kind."""

import asyncio
import uuid
from typing import Protocol

from . import codes


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


class QueuedSubscriber:
    """A Subscriber whose frames go through a bounded queue drained by a task of its own.

    The actor never waits on a peer: `send` only enqueues, and a peer that
    falls `queue_limit` frames behind is closed (4013) and resyncs on
    reconnect, so a slow reader cannot grow memory without bound.
    Subclasses say how a batch of frames reaches the peer and how it is closed.
    """

    def __init__(self, *, sid: str | None, username: str, can_write: bool, queue_limit: int):
        self.sid = sid or uuid.uuid4().hex
        self.username = username
        self.can_write = can_write
        self.closed = False
        self._queue: asyncio.Queue = asyncio.Queue(queue_limit)
        self._pump = asyncio.create_task(self._drain())

    def send(self, frame: bytes) -> None:
        if self.closed:
            return
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close(codes.TRY_AGAIN_LATER, "too slow")

    def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.stop()
        asyncio.get_running_loop().create_task(self._close_peer(code, reason))

    def stop(self) -> None:
        """Stop delivering (the peer went away, or is being closed)."""
        self.closed = True
        self._pump.cancel()

    async def _drain(self) -> None:
        while True:
            frames = [await self._queue.get()]
            while not self._queue.empty():
                frames.append(self._queue.get_nowait())
            await self._deliver(frames)

    async def _deliver(self, frames: list[bytes]) -> None:
        raise NotImplementedError("subclasses of QueuedSubscriber must provide _deliver()")

    async def _close_peer(self, code: int, reason: str) -> None:
        raise NotImplementedError("subclasses of QueuedSubscriber must provide _close_peer()")

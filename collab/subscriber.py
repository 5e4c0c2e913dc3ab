"""What the actor needs from whoever subscribes to a document, and the common queued kind."""

import asyncio
import collections
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
    """A Subscriber whose frames go through a bounded queue, drained by a task while it is not empty.

    The actor never waits on a peer: `send` only appends, and a peer that
    falls `queue_limit` frames behind is closed (4013) and resyncs on
    reconnect, so a slow reader cannot grow memory without bound. The drain
    task exists only while frames are pending: an idle socket costs no task.
    Subclasses say how a batch of frames reaches the peer and how it is closed.
    """

    def __init__(self, *, sid: str | None, username: str, can_write: bool, queue_limit: int):
        self.sid = sid or uuid.uuid4().hex
        self.username = username
        self.can_write = can_write
        self.closed = False
        self._limit = queue_limit
        self._pending: collections.deque = collections.deque()
        self._pump: asyncio.Task | None = None

    def send(self, frame: bytes) -> None:
        if self.closed:
            return
        if len(self._pending) >= self._limit:
            self.close(codes.TRY_AGAIN_LATER, "too slow")
            return
        self._pending.append(frame)
        if self._pump is None:
            self._pump = asyncio.get_running_loop().create_task(self._drain())

    def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.stop()
        asyncio.get_running_loop().create_task(self._close_peer(code, reason))

    def stop(self) -> None:
        """Stop delivering (the peer went away, or is being closed)."""
        self.closed = True
        self._pending.clear()
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None

    async def _drain(self) -> None:
        try:
            while self._pending and not self.closed:
                frames = list(self._pending)
                self._pending.clear()
                await self._deliver(frames)
        finally:
            if self._pump is asyncio.current_task():
                self._pump = None

    async def _deliver(self, frames: list[bytes]) -> None:
        raise NotImplementedError("subclasses of QueuedSubscriber must provide _deliver()")

    async def _close_peer(self, code: int, reason: str) -> None:
        raise NotImplementedError("subclasses of QueuedSubscriber must provide _close_peer()")

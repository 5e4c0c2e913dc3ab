"""In-process pieces for the engine's tests: a subscriber that records its frames, snapshot data."""

import asyncio
import uuid

from pycrdt import Doc

from collab import protocol
from collab.store import SnapshotData


class FakeSubscriber:
    def __init__(self, name="alice", can_write=True):
        self.sid = uuid.uuid4().hex
        self.username = name
        self.can_write = can_write
        self.frames: list = []
        self.closed_with = None
        self._arrived = asyncio.Event()

    def send(self, frame):
        self.frames.append(protocol.decode(frame))
        self._arrived.set()

    def close(self, code, reason=""):
        self.closed_with = code
        self._arrived.set()

    def updates(self):
        return [m.update for m in self.frames if isinstance(m, protocol.Update)]

    async def wait(self, predicate, timeout=5):
        async def waiter():
            while not predicate(self):
                self._arrived.clear()
                await self._arrived.wait()
        await asyncio.wait_for(waiter(), timeout)


def as_snapshot(updates: list[bytes], last_seq: int, label: str = "") -> SnapshotData:
    doc = Doc()
    for update in updates:
        doc.apply_update(update)
    return SnapshotData(doc.get_update(), doc.get_state(), last_seq, authors=("ann",), label=label)

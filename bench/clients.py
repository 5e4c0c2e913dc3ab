"""The simulated people: an Editor types, an IdleClient only syncs and stays.

Latency is measured without putting anything in the document. An author
records the send time of each clock of its own client id (one character is
one clock); a receiver reads, from the struct headers of every update it
parses, which (author, clock) ranges the frame carries (`wire.update_ranges`),
and records the first time it saw each. Joining the two tables afterwards
gives one latency per (edit, receiving editor), on the machine's monotonic
clock, which all generator processes share.

Received updates are parsed at once (that is the receipt time) but applied to
the editor's Doc in one transaction just before its next keystroke and at the
end, as a UI batching remote changes into a frame would: applying each of 1,000
updates a second per editor would make the generator, not the server, the
bottleneck. With many editors (typing-200: 200,000 receipts a second) even
that is more than one core can do, so only some editors (`applies`) keep a
full Doc; the others still parse and time every frame, and type into a Doc
holding the seed and their own text (valid Yjs edits all the same).
"""

import asyncio
import random
import time
from array import array

from pycrdt import Doc, XmlFragment, XmlText

from . import wire
from .wsclient import WSClient

LETTERS = "abcdefghijklmnopqrstuvwxyz     "


def now_us(epoch_ns: int) -> int:
    return (time.monotonic_ns() - epoch_ns) // 1000


class Recorder:
    """What one generator process measured: send times, receipts."""

    def __init__(self, epoch_ns: int, authors: dict[int, int]):
        self.epoch_ns = epoch_ns
        self.authors = authors  # Yjs client id -> author index (global)
        self.sends: dict[int, array] = {}  # author index -> send time (µs) per clock
        self.receipts = array("q")  # flat (author index, first clock, end clock, receipt time µs)
        self.fallbacks = 0  # frames whose ranges came from diffing state vectors
        # The same frame reaches every receiver in this process: parse its struct headers once.
        self._ranges: dict[bytes, list | None] = {}

    def ranges(self, update: bytes):
        cached = self._ranges.get(update, False)
        if cached is False:
            if len(self._ranges) > 4096:
                self._ranges.clear()
            cached = self._ranges[update] = wire.update_ranges(update)
        return cached


class Editor:
    def __init__(self, index: int, client_id: int, path: str, recorder: Recorder, seed: int, headers=None,
                 applies: bool = True):
        self.index = index  # global author index
        self.applies = applies  # applies what it receives (else only parses and times it)
        self.headers = headers or {}  # the handshake's (Authorization)
        self.client_id = client_id
        self.path = path
        self.recorder = recorder
        self.rng = random.Random(seed)
        self.doc = Doc(client_id=client_id)
        self.fragment = self.doc.get("default", type=XmlFragment)
        self.text: XmlText | None = None
        self.ws: WSClient | None = None
        self.synced = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_code = None
        self.clock = 0  # own clocks sent
        self.cursor = -1
        self.pending: list[bytes] = []
        self.seen: dict[int, int] = {}  # author index -> clocks seen
        self.step2_bytes = 0
        self.awareness_frames = 0  # e.g. the server's "saved" state
        recorder.sends[index] = array("q")

    async def connect(self, host: str, port: int, headers: dict) -> None:
        # The server may send its sync step 1 together with the handshake: self.ws must be set first.
        self.ws = WSClient(self.on_frame, self.on_close)
        await self.ws.open(host, port, self.path, headers)
        self.ws.send(wire.step1_frame(self.doc.get_state()))

    def on_close(self, code, reason):
        self.close_code = code
        self.closed.set()

    def on_frame(self, frame: bytes) -> None:
        if frame[0] != wire.SYNC:
            self.awareness_frames += 1
            return  # awareness: counted, not measured
        kind, sync_type, payload = wire.parse_frame(frame)
        if sync_type == wire.STEP1:
            self.apply_pending()
            self.ws.send(wire.step2_frame(self.doc.get_update(payload)))
            return
        self._record(payload)
        if sync_type == wire.STEP2:
            self.step2_bytes += len(frame)
            self.apply_pending()
            self.synced.set()

    def _record(self, update: bytes) -> None:
        rec = self.recorder
        t = now_us(rec.epoch_ns)
        ranges = rec.ranges(update)
        if ranges is None:
            # Unknown content: apply now and see which clocks became visible.
            rec.fallbacks += 1
            self.apply_pending()
            before = wire.decode_state_vector(self.doc.get_state())
            self._apply([update])
            after = wire.decode_state_vector(self.doc.get_state())
            ranges = [(c, before.get(c, 0), e) for c, e in after.items() if e > before.get(c, 0)]
        elif self.applies or not self.synced.is_set():
            self.pending.append(update)
        authors, seen, receipts = rec.authors, self.seen, rec.receipts
        for client, start, end in ranges:
            author = authors.get(client)
            if author is None or author == self.index:
                continue
            got = seen.get(author, 0)
            if end > got:
                receipts.extend((author, max(start, got), end, t))
                seen[author] = end

    def _apply(self, updates) -> None:
        with self.doc.transaction(origin="remote"):
            for update in updates:
                self.doc.apply_update(update)

    def apply_pending(self) -> None:
        if self.pending:
            pending, self.pending = self.pending, []
            self._apply(pending)

    def type_one(self) -> None:
        """One keystroke: insert a character at this editor's cursor and send the update."""
        self.apply_pending()
        if self.text is None:
            self.text = self.fragment.children[0].children[0]
        length = len(self.text)
        if self.cursor < 0 or self.cursor > length:
            self.cursor = self.rng.randint(0, length)
        before = self.doc.get_state()
        with self.doc.transaction():
            self.text.insert(self.cursor, self.rng.choice(LETTERS))
        self.cursor += 1
        frame = wire.update_frame(self.doc.get_update(before))
        self.recorder.sends[self.index].append(now_us(self.recorder.epoch_ns))
        self.clock += 1
        self.ws.send(frame)

    def caught_up(self, expected: dict[int, int]) -> bool:
        seen = self.seen
        return all(seen.get(a, 0) >= n for a, n in expected.items() if a != self.index)

    def final_state(self) -> tuple[str, dict[int, int]]:
        self.apply_pending()
        return str(self.fragment), wire.decode_state_vector(self.doc.get_state())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


class IdleClient:
    """Connects, syncs an empty state, then only answers pings.

    With `expect` (a state vector: what the document is known to hold), it is
    synced only once the server's sync step 2 carries all of that (applied to
    an empty Doc, its state vector covers `expect`): a server that answers
    before it has loaded the document, or with less than it holds, has not
    synced it. `synced_at` is when (time.monotonic()).
    """

    def __init__(self, path: str, headers=None, expect: dict[int, int] | None = None):
        self.path = path
        self.headers = headers or {}
        self.expect = expect
        self.ws: WSClient | None = None
        self.synced = asyncio.Event()
        self.synced_at: float | None = None
        self.short_states = 0  # sync step 2 frames that lacked part of `expect`
        self.closed = asyncio.Event()
        self.close_code = None

    async def connect(self, host: str, port: int, headers: dict) -> None:
        # The server may send its sync step 1 together with the handshake: self.ws must be set first.
        self.ws = WSClient(self.on_frame, self.on_close)
        await self.ws.open(host, port, self.path, headers)
        self.ws.send(wire.step1_frame(b"\x00"))

    def on_close(self, code, reason):
        self.close_code = code
        self.closed.set()

    def on_frame(self, frame: bytes) -> None:
        if frame[0] == wire.SYNC:
            if frame[1] == wire.STEP1:
                self.ws.send(wire.step2_frame(b"\x00\x00"))
            elif frame[1] == wire.STEP2 and not self.synced.is_set():
                if self.expect and not self.holds_expected(wire.parse_frame(frame)[2]):
                    self.short_states += 1
                    return
                self.synced_at = time.monotonic()
                self.synced.set()

    def holds_expected(self, update: bytes) -> bool:
        doc = Doc()
        doc.apply_update(update)
        have = wire.decode_state_vector(doc.get_state())
        return all(have.get(client, 0) >= clock for client, clock in self.expect.items())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

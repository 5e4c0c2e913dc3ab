"""People typing while the servers under them go away: clients that keep typing and reconnect.

    typists = [Typist(YClient(url, token=t), f"c{i}") for i, t in enumerate(tokens)]
    await open_synced(*(t.client for t in typists))
    stop = asyncio.Event()
    runs = [asyncio.create_task(t.run(stop)) for t in typists]
    ...                                    # kill, restart, deploy
    stop.set(); await asyncio.gather(*runs)
    lost_or_doubled(content, typists)      # [] when every paragraph typed is there exactly once
"""

import asyncio
import re
import time

from collab.client import YClient
from tests.support.clients import keep_connected
from tests.support.crdt import paragraph


class TimedYClient(YClient):
    """A YClient that notes when each remote update reaches it (sync step 2 or update), to measure the
    longest time its user saw nothing of the others' typing."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received_at: list[float] = []

    def apply_remote(self, update: bytes) -> None:
        self.received_at.append(time.monotonic())
        super().apply_remote(update)

    def longest_silence(self, start: float, end: float) -> float:
        """The longest stretch of [start, end] in which no remote update arrived."""
        times = [start, *(t for t in self.received_at if start < t < end), end]
        return max(b - a for a, b in zip(times, times[1:]))


class Typist:
    """Types paragraphs `<tag>-0`, `<tag>-1`, ... every `pace` seconds into its client's document and,
    like y-websocket's provider, keeps typing into its local document while cut off and reconnects
    at once (the resync sends what the server lacks). `gaps` are the times it was cut off: from the
    close it saw to the moment it was synced again."""

    def __init__(self, client: YClient, tag: str, pace: float = 0.05):
        self.client = client
        self.tag = tag
        self.pace = pace
        self.written: list[str] = []
        self.gaps: list[float] = []

    async def run(self, stop: asyncio.Event, reconnect_timeout: float = 60.0) -> None:
        """Type until `stop`; returns once stopped and connected (synced) again."""
        await asyncio.gather(self._type(stop), keep_connected(self.client, stop, reconnect_timeout, self.gaps))

    async def _type(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            text = f"{self.tag}-{len(self.written)}"
            self.client.fragment.children.append(paragraph(text))
            self.written.append(text)
            await asyncio.sleep(self.pace)  # typing pace

    @property
    def longest_gap(self) -> float:
        return max(self.gaps, default=0.0)


def lost_or_doubled(content: str, typists: list[Typist]) -> list[str]:
    """Paragraphs the typists wrote that `content` (a fragment's XML) lacks or holds more than once."""
    counts: dict[str, int] = {}
    for text in re.findall(r"<paragraph>([^<]*)</paragraph>", content):
        counts[text] = counts.get(text, 0) + 1
    return [f"{text} x{counts.get(text, 0)}" for t in typists for text in t.written if counts.get(text, 0) != 1]

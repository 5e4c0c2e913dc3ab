"""The fan-out outbox: updates waiting to be sent to a document's subscribers.

The first update after a quiet spell goes out at once; the ones that follow
within `interval` of the last send are merged and sent together, one frame per
recipient, and so are those already waiting in the actor's mailbox when a send
is due (the actor's choice: it sends after them). Under load this divides the
frames (and the per-frame cost of the WebSocket stack) by the updates per
interval. Nobody ever gets their own update back.

Plain bookkeeping, no timers: the actor asks when the next send is due and
schedules it.
"""

from pycrdt import merge_updates

from . import protocol


class Outbox:
    def __init__(self, interval: float):
        self._interval = interval
        self._pending: list[tuple[bytes, str | None]] = []  # (update, sid of its author or None)
        self._last_send = float("-inf")

    def add(self, update: bytes, author: str | None) -> None:
        """Queue an update sent by subscriber `author` (None: by the server)."""
        self._pending.append((update, author))

    @property
    def due(self) -> float:
        """When the pending updates may go (now, if that is already past)."""
        return self._last_send + self._interval

    def take(self, now: float) -> tuple[bytes | None, dict[str, bytes | None]]:
        """Empty the outbox: the frame for everyone, and each author's own frame (None: nothing to send).

        (None, {}) if nothing was pending.
        """
        batch, self._pending = self._pending, []
        self._last_send = now
        if not batch:
            return None, {}
        if len(batch) == 1:
            update, author = batch[0]
            return protocol.encode_update(update), ({author: None} if author is not None else {})
        everyone = protocol.encode_update(merge_updates(*(update for update, _ in batch)))
        # Authors get everything but their own updates (never an echo). Batches
        # hold the few updates of one interval, so this stays cheap.
        own = {}
        for author in {who for _, who in batch if who is not None}:
            others = [update for update, who in batch if who != author]
            own[author] = protocol.encode_update(merge_updates(*others)) if others else None
        return everyone, own

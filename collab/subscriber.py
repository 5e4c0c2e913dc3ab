"""What the actor needs from whoever subscribes to a document."""

from typing import Protocol


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

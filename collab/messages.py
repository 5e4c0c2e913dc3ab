"""What can be put in a DocumentActor's mailbox: small frozen records.

Requests (`Request` subclasses) carry a future that the actor resolves with
the answer or fails with the error; `DocumentActor.ask` creates it.
"""

import asyncio
from dataclasses import dataclass, field

from . import protocol


class ActorStopped(Exception):
    """The actor stopped (or failed) before it could handle the message."""


class Unavailable(Exception):
    """The document's actor could not be reached within the retry bound; try again later.

    Raised when actors keep stopping, Redis is unreachable or the owner process
    does not answer: a transient failure (a socket closes with a code the client
    reconnects after, an HTTP request gets a 503), never "no such document".
    """


@dataclass(frozen=True, slots=True)
class Request:
    # Resolved by the actor with the answer, or failed with the error.
    reply: asyncio.Future = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Join(Request):
    # The new subscriber (see collab.subscriber.Subscriber).
    subscriber: object = None


@dataclass(frozen=True, slots=True)
class Leave:
    # The subscriber that went away.
    subscriber: object


@dataclass(frozen=True, slots=True)
class Incoming:
    # Who sent it.
    subscriber: object
    # The decoded y-websocket message.
    message: protocol.Message


@dataclass(frozen=True, slots=True)
class Flush(Request):
    """Answered once everything received before it is durably stored."""


@dataclass(frozen=True, slots=True)
class GetState(Request):
    """Answered with (state as one update, state vector) of the live document."""


@dataclass(frozen=True, slots=True)
class ApplyUpdate(Request):
    """A change made by the server on someone's behalf (e.g. a restore from the admin)."""

    # The Yjs update to apply and fan out.
    update: bytes = b""
    # Username recorded as an author of the next version.
    author: str = ""


@dataclass(frozen=True, slots=True)
class Edit(Request):
    """A named edit (collab.edits) computed in the actor's turn and recorded as a version before it goes live.

    Answered with {"version": the new snapshot's id, "result": what the edit returned}.
    """

    # The name the edit is registered under.
    change: str = ""
    # Its arguments after the Doc: plain data (bytes, str, numbers), as they may cross processes.
    args: tuple = ()
    # Username recorded as an author of the version.
    author: str = ""
    # The version's name and kind ("auto", "named" or "restore").
    label: str = ""
    kind: str = "auto"
    # Fields merged into the server's awareness entry once the change is live (a notice for every
    # open editor), or None.
    notice: dict | None = None


@dataclass(frozen=True, slots=True)
class TakeSnapshot(Request):
    """Answered with the id of a snapshot taken now (after pending writes)."""

    # Name of the version; empty for none.
    label: str = ""
    # "auto", "named" or "restore".
    kind: str = "auto"


@dataclass(frozen=True, slots=True)
class Inspect(Request):
    """Answered with a dict describing the actor (subscribers, unsaved bytes...)."""


# Internal: posted by the actor's own timers and writer, never by others.
@dataclass(frozen=True, slots=True)
class Tick:
    pass


@dataclass(frozen=True, slots=True)
class FanOut:
    """Time to send the coalesced updates."""


@dataclass(frozen=True, slots=True)
class WriteDone:
    # The write job that finished.
    job: object
    # The exception it failed with, or None.
    error: BaseException | None
    # What the store returned (the snapshot id for snapshots).
    result: object = None


@dataclass(frozen=True, slots=True)
class EditWritten:
    """The version of an Edit was stored (or failed to be): the change may go live."""

    # The Edit request.
    request: object
    # (the snapshot job written, the update that makes the live document the edited one).
    pending: tuple
    # What the edit function returned.
    result: object
    # The stored snapshot's id, or None if the write failed.
    version: int | None = None
    # The exception the write failed with, or None.
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Close every subscriber and stop after a final snapshot (process shutdown)."""


@dataclass(frozen=True, slots=True)
class Abandon:
    """Close every subscriber with `code` and stop without saving."""

    # The close code subscribers get.
    code: int
    # Why, for the close frame.
    reason: str

"""What can be put in a DocumentActor's mailbox: small frozen records.

Requests (`Request` subclasses) carry a future that the actor resolves with
the answer or fails with the error; `DocumentActor.ask` creates it.
"""

import asyncio
import hashlib
from dataclasses import dataclass, field

from pycrdt import get_update

from . import protocol


class ActorStopped(Exception):
    """The actor stopped (or failed) before it could handle the message."""


class Unavailable(Exception):
    """The document's actor could not be reached within the retry bound; try again later.

    Raised when actors keep stopping, Redis is unreachable or the owner process
    does not answer: a transient failure (a socket closes with a code the client
    reconnects after, an HTTP request gets a 503), never "no such document".
    """


class StateChanged(Exception):
    """A conditional change was refused: the live document is no longer the state it was computed against."""


def state_digest(state: bytes, state_vector: bytes) -> bytes:
    """A digest that changes whenever a document's content does: its state vector plus its delete set.

    The state vector alone does not move when text is only deleted; the
    update from the document's own state vector is exactly its delete set.
    """
    digest = hashlib.sha256()
    for part in (state_vector, get_update(state, state_vector)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


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
    """A change made by the server on someone's behalf (a restore, a REST write).

    Answered with (state as one update, state vector) of the live document
    just after the change, as GetState would give them.
    """

    # The Yjs update to apply and fan out.
    update: bytes = b""
    # Username recorded as an author of the next version.
    author: str = ""
    # If not empty: the `state_digest` the live document must still have, else the
    # update is refused with StateChanged and nothing changes (check-and-write in one turn).
    expect: bytes = b""


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
class Announce(Request):
    """Merge `notice` into the server's awareness entry, for everyone who has the document open.

    Answered with None. For news about the document that is not its content (a new title): the
    project says what the fields mean; clients believe them only from the server's own entry.
    """

    notice: dict = field(default_factory=dict)


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
    """Stop after a final snapshot (process shutdown), closing every subscriber at once, or handing them over.

    With `held`, the subscribers are moved there instead, still connected, for the caller to close
    once the lease is released (Registry.stop_all): their reconnects then find the document free.
    """

    held: list | None = None


@dataclass(frozen=True, slots=True)
class Abandon:
    """Close every subscriber with `code` and stop without saving."""

    # The close code subscribers get.
    code: int
    # Why, for the close frame.
    reason: str


@dataclass(frozen=True, slots=True)
class LeaseLost:
    """The lease is gone: write what is unsaved once more, with the fence held, then stop as Abandon does.

    The store refuses that write (StaleOwner) if a newer owner has claimed the
    document, and keeps it if nobody has: a process paused past its TTL loses
    nothing a closed tab will never resend.
    """

    code: int
    reason: str

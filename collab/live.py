"""The live document, for the rest of the site (REST export, admin restore), and access nudges.

These coroutines run on the server's event loop, where the actors live: an
async view awaits them directly, sync code (the admin) through async_to_sync.
They are the only way other apps reach a document's actor.

Errors are the same wherever the document's actor lives (this process or,
with Redis, another one): DocumentGone for a deleted document (a 404),
Unavailable when the actor could not be reached within the engine's retry
bounds (transient: a 503, try again), ValueError for input the document
cannot take (TooLarge: a change past COLLAB_MAX_DOCUMENT_SIZE), StateChanged
when a conditional edit found the document changed, and RemoteError for
anything else another process failed with (a bug there: a 500). They are
re-exported here for callers.
"""

import asyncio
import logging
import resource

from pycrdt import Doc

from .cluster import RemoteError
from .messages import Announce, ApplyUpdate, Edit, Flush, GetState, Inspect, StateChanged, TakeSnapshot, Unavailable, state_digest
from .registry import get_registry
from .store import DocumentGone

__all__ = [
    "DocumentGone", "RemoteError", "StateChanged", "TooLarge", "Unavailable",
    "live_state", "apply_update", "announce", "edit", "versioned_edit", "state_digest", "flush", "take_snapshot",
    "open_documents", "process_stats", "access_changed", "tell_users",
]

logger = logging.getLogger(__name__)


class TooLarge(ValueError):
    """The change would take the document past COLLAB_MAX_DOCUMENT_SIZE; nothing was changed."""

    def __init__(self, size: int, limit: int):
        super().__init__(f"the document would be {size} bytes, over the limit of {limit}")
        self.size, self.limit = size, limit


async def live_state(document_id) -> tuple[bytes, bytes]:
    """(state as one update, state vector) with every edit the server has received.

    Asks the actor if the document is open; otherwise reads the store
    without spawning one.
    """
    registry = await get_registry()
    live = await registry.ask_if_open(document_id, GetState())
    if live is not None:
        return tuple(live)
    # Not open anywhere: the store has everything (actors save before stopping).
    loaded = await registry.store.load(document_id)
    doc = Doc()
    for update in loaded.updates:
        doc.apply_update(update)
    return doc.get_update(), doc.get_state()


async def apply_update(document_id, update: bytes, author: str = "") -> bytes:
    """Apply a server-made change as a live edit (spawning the actor if need be).

    Returns the document's state vector after it.
    """
    _state, state_vector = await (await get_registry()).ask(document_id, ApplyUpdate(update=update, author=author))
    return state_vector


async def edit(document_id, change, author: str = "", *, precondition=None) -> tuple[bytes, bytes]:
    """Make a change with `change(doc)` on a copy of the live state and apply it live, as one update.

    `change` runs in a worker thread (it must not touch the event loop).

    The change is computed against the live state and applied as a forward
    CRDT update through the actor, so concurrent edits elsewhere survive.
    Returns (state, state vector) of the live document just after it.

    `precondition(state, state_vector)`, if given, is called first with the
    live state the change will be computed against, and may raise to refuse
    it. The change is then applied only if the document is still in that
    state when the actor takes it (check and write in one turn of the actor),
    else StateChanged is raised and nothing changes. A change that would take
    the document past COLLAB_MAX_DOCUMENT_SIZE raises TooLarge.
    """
    registry = await get_registry()
    state, state_vector = await live_state(document_id)
    if precondition is not None:
        precondition(state, state_vector)

    def compute() -> tuple[bytes, int]:
        doc = Doc()
        doc.apply_update(state)
        change(doc)
        return doc.get_update(state_vector), len(doc.get_update())

    # A large document takes a while to copy and change: off the event loop the actors share.
    update, size = await asyncio.to_thread(compute)
    limit = registry.config.max_document_size
    if size > limit:
        raise TooLarge(size, limit)
    expect = state_digest(state, state_vector) if precondition is not None else b""
    request = ApplyUpdate(update=update, author=author, expect=expect)
    new_state, new_state_vector = await registry.ask(document_id, request)
    return new_state, new_state_vector


async def versioned_edit(document_id, change: str, *args, author: str = "", label: str = "", kind: str = "auto",
                         notice: dict | None = None) -> dict:
    """Run the edit registered as `change` (collab.edits) in the document's actor, recorded as a version.

    Computed against the live state inside the actor's turn (so two such edits
    never both apply to the same state) and stored as a snapshot before it
    goes live: if the store refuses, Unavailable and nothing changed. `notice`
    is merged into the server's awareness entry once the change is live.
    Returns {"version": the snapshot's id, "result": what the edit returned}.
    """
    request = Edit(change=change, args=tuple(args), author=author, label=label, kind=kind, notice=notice)
    return await (await get_registry()).ask(document_id, request)


async def announce(document_id, notice: dict) -> None:
    """Merge `notice` into the server's awareness entry of the document, if it is open anywhere.

    Everyone who has it open hears it at once (a rename: the project's fields); a document open
    nowhere has no one to tell, and nothing is spawned for it.
    """
    await (await get_registry()).ask_if_open(document_id, Announce(notice=dict(notice)))


async def flush(document_id) -> None:
    """Wait until every edit received so far is durably stored (no-op if not open)."""
    await (await get_registry()).ask_if_open(document_id, Flush())


async def take_snapshot(document_id, label: str = "", kind: str = "auto") -> int:
    """Take a snapshot (a version) now; returns its id."""
    return await (await get_registry()).ask(document_id, TakeSnapshot(label=label, kind=kind))


async def open_documents() -> list[dict]:
    """What each live actor reports (document, subscribers, unsaved bytes, last commit, process).

    Cluster-wide with Redis (from the processes' heartbeats, at most a second
    or so old); this process's actors otherwise.
    """
    registry = await get_registry()
    if registry.cluster is not None:
        return [dict(actor, process=report["name"]) for report in await registry.cluster.cluster_report()
                for actor in report["actors"]]
    result = []
    for actor in registry.actors():
        try:
            result.append(dict(await actor.ask(Inspect()), process="this process"))
        except Exception:
            continue
    return result


async def process_stats() -> dict:
    """This process's engine: live actors, asyncio tasks, open sockets, resident memory (for leak checks),
    and its group commit's counters (transactions, writes committed; the bench reads them)."""
    from .consumer import _connections_per_user  # the consumer imports this module's neighbours

    registry = await get_registry()
    with open("/proc/self/statm") as statm:
        rss_pages = int(statm.read().split()[1])
    writer = getattr(registry.store, "writer", None)  # the group commit (collab.writer), if the store has one
    return {
        "actors": [actor.inspect() for actor in registry.actors()],
        "tasks": len(asyncio.all_tasks()),
        "connections": sum(_connections_per_user.values()),
        "rss_bytes": rss_pages * resource.getpagesize(),
        "writer": writer.stats() if writer is not None else None,
    }


def access_changed(user_id, session_key=None) -> None:
    """The user's access may have changed: their open sockets (in every process) re-check it at once,
    and every process forgets its cached connect answers for them (collab.access).

    For the project to call (sync code, after the change commits): a role given
    or removed, a token revoked, a document deleted, a password changed...
    `session_key` names a session that was just signed out: its sockets close at once.
    One message per process (with Redis, to the cluster's process channels), not one per socket.
    """
    from .access import changed_here
    from .cluster import ACCESS_GROUP
    from .config import CollabConfig

    if not CollabConfig.from_settings().redis_url:
        # One process serves everything: straight to its sockets (another process never reaches them).
        return changed_here(user_id, session_key)
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    try:
        async_to_sync(get_channel_layer().group_send)(
            ACCESS_GROUP, {"type": "collab.access_changed", "user_id": user_id, "ended_session": session_key})
    except Exception:
        # Access is re-checked periodically; a missed nudge only delays the close. This process at least knows.
        logger.exception("could not tell the other processes that user %s's access changed", user_id)
        changed_here(user_id, session_key)


_sending: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None


def _one_at_a_time(loop) -> asyncio.Lock:
    """The server loop's lock for nudges: one in flight, the others wait their turn.

    A burst (the indexer tells of every document it indexed, one call each) was
    hundreds of sends at once, each holding a Redis connection of the channel
    layer's pool, which refuses calls beyond its 100th (MaxConnectionsError):
    those lists missed the change, and so did the cluster's own messages.
    """
    global _sending
    if _sending is None or _sending[0] is not loop:
        _sending = (loop, asyncio.Lock())
    return _sending[1]


def tell_users(user_ids, event: dict) -> None:
    """Send `event` (a small JSON-able dict) to the open feeds of these users, in every process (collab.feed).

    For the project to call from any thread, after the change it tells of
    commits. One message per call, whatever the number of users or sockets:
    with Redis, one to the group of the processes' channels. Best effort and
    not awaited: a lost event costs a feed's freshness until its page next
    re-reads, never correctness (the event is only a nudge to re-read).
    """
    from .config import CollabConfig
    from .feed import deliver_here

    users = sorted({int(user_id) for user_id in user_ids})
    if not users:
        return
    if not CollabConfig.from_settings().redis_url:
        return deliver_here(users, event)  # one process serves every feed
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from .cluster import ACCESS_GROUP
    from .registry import server_loop

    message = {"type": "collab.tell_users", "users": users, "event": dict(event)}

    async def send() -> None:
        async with _one_at_a_time(asyncio.get_running_loop()):
            await get_channel_layer().group_send(ACCESS_GROUP, message)

    def failed(future) -> None:
        if not future.cancelled() and future.exception() is not None:
            logger.warning("could not tell users %s of %s", users, event, exc_info=future.exception())

    loop = server_loop()
    if loop is None:  # a script: its own short-lived loop
        try:
            async_to_sync(send)()
        except Exception:
            logger.warning("could not tell users %s of %s", users, event, exc_info=True)
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    # On the server's loop, whose channel-layer connections are open (a thread of its own, such as
    # the search indexer, would otherwise open a loop and a Redis connection per call); never awaited.
    if running is loop:
        loop.create_task(send()).add_done_callback(failed)
    else:
        asyncio.run_coroutine_threadsafe(send(), loop).add_done_callback(failed)

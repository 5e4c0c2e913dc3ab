"""A user's feed: one WebSocket per open page that lists documents, told at once what changed for them.

Why a socket, and why it carries so little. A document list used to re-read
itself every 10 s while in view, so a rename, a new share or a lost one took
up to 10 s to show, and every open list cost a page render every 10 s whether
or not anything had changed. Now the page opens `/ws/feed/` and re-reads
itself only when told, within a second of the change; with nothing changing
an open list costs an idle socket (Daphne's pings), nothing more.

- **Nudges, not data.** An event is a small JSON object the project chooses
  (`{"kind": "renamed", "document": "<id>"}`); the page answers it by reading
  its list again over HTTP, where the usual access rules decide what it shows.
  So the feed never has to know what the user may see, nothing shown can be
  stale or out of order (the last re-read wins), and a lost event costs only
  freshness: the page also re-reads when the socket (re)opens and when it
  comes back into view.
- **Per process, not per socket, across processes.** This module keeps the
  process's feeds by user id, in memory. `collab.live.tell_users` delivers
  here directly in the embedded set-up, and with Redis sends one message to
  the channel-layer group of the processes' channels (the one access changes
  use, collab.cluster), whichever process the change was made in and however
  many sockets listen; each process hands it to its own feeds. No channel-
  layer group or channel per socket.
- **Signed in, and still.** The handshake is authenticated as document
  sockets are (collab.auth: the session cookie with a checked Origin, or a
  bearer token), once. The socket is then watched by collab.access like the
  others (an Entry with no document: only its credentials are re-checked), so
  signing out, a password change or a revoked token closes it with 4401.
- **A WebSocket, not Server-Sent Events**: over HTTP/1.1 (Daphne, no HTTP/2)
  a browser holds at most six connections per host, and an EventSource per
  open tab would eat into them; WebSockets are counted apart.

Frames are text, one JSON event each; the server never reads what a client
sends. First comes `{"kind": "ready"}` (from then on every change is told),
then the events. A feed that falls more than EVENT_LIMIT events behind gets
`{"kind": "overflow"}` in place of the rest (re-read everything).
"""

import asyncio
import collections
import json
import logging
import weakref

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from . import codes
from .access import Entry, call_on_loop, get_watcher
from .auth import Credentials, session_user, token_backend
from .consumer import DirectDispatch
from .registry import get_registry

logger = logging.getLogger(__name__)

# Events waiting to be written to one socket; past it the rest collapse into OVERFLOW.
EVENT_LIMIT = 64
READY = {"kind": "ready"}
OVERFLOW = {"kind": "overflow"}


class Feeds:
    """This process's open feeds, by user id (weakly: a socket that went away is not kept)."""

    def __init__(self):
        self.loop = asyncio.get_running_loop()
        self._by_user: dict = {}  # user id -> WeakSet of FeedConsumer

    def count(self, user_id) -> int:
        return len(self._by_user.get(user_id, ()))

    def add(self, consumer, user_id) -> None:
        self._by_user.setdefault(user_id, weakref.WeakSet()).add(consumer)

    def remove(self, consumer, user_id) -> None:
        sockets = self._by_user.get(user_id)
        if sockets is not None:
            sockets.discard(consumer)
            if not sockets:
                del self._by_user[user_id]

    def deliver(self, user_ids, event: dict) -> None:
        for user_id in user_ids:
            for consumer in list(self._by_user.get(user_id, ())):
                consumer.push(event)


_feeds: Feeds | None = None


def feeds() -> Feeds:
    """This process's feeds, made on first use in the running event loop."""
    global _feeds
    if _feeds is None or _feeds.loop is not asyncio.get_running_loop():
        _feeds = Feeds()
    return _feeds


def deliver_here(user_ids, event: dict) -> None:
    """Hand `event` to this process's feeds of `user_ids`, from any thread (nothing to do if none is open)."""
    found = _feeds
    if found is not None:
        call_on_loop(found.loop, found.deliver, list(user_ids), event)


def _identify(credentials: Credentials | None):
    """(user, token id, session key, session auth hash) the handshake's credentials sign in, or None."""
    if credentials is None:
        return None
    if credentials.token is not None:
        found = token_backend().authenticate(credentials.token)
        return None if found is None else (found[0], found[1], None, None)
    if credentials.session_key:
        user, auth_hash = session_user(credentials.session_key)
        return (user, None, credentials.session_key, auth_hash) if user.is_authenticated else None
    return None


class FeedConsumer(DirectDispatch, AsyncWebsocketConsumer):
    """/ws/feed/: the signed-in user's events, as text frames of JSON."""

    # No channel of its own: events reach the process (collab.cluster's process channel), then its feeds here.
    channel_layer_alias = None
    entry: Entry | None = None
    config = None
    _drain: asyncio.Task | None = None

    async def connect(self):
        # Accept first: closing before accept() would be an HTTP 403 at the handshake.
        await self.accept()
        try:
            # With Redis, the registry puts this process's channel in the group tell_users sends to.
            registry = await get_registry()
            who = await database_sync_to_async(_identify)(self.scope.get("credentials"))
        except Exception:
            logger.exception("feed: could not check who is connecting")
            return await self.close(codes.INTERNAL_ERROR, "service unavailable, try again")
        if who is None:
            return await self.close(codes.NOT_SIGNED_IN, "not signed in")
        user, token_id, session_key, auth_hash = who
        self.config = registry.config
        here = feeds()
        if here.count(user.pk) >= self.config.max_connections_per_user:
            return await self.close(codes.TOO_MANY_CONNECTIONS, "too many open feeds for this user")
        self._queue = collections.deque()
        self.entry = Entry(user_id=user.pk, document_id=None, can_write=False, token_id=token_id,
                           session_key=session_key, session_auth_hash=auth_hash)
        here.add(self, user.pk)
        get_watcher(self.config).watch(self, user.pk)
        self.push(READY)

    async def receive(self, text_data=None, bytes_data=None):
        """Nothing a client sends means anything here."""

    def push(self, event: dict) -> None:
        """Queue `event` for this socket (from the event loop); written in order by one task."""
        if self.entry is None:
            return
        if len(self._queue) >= EVENT_LIMIT:
            self._queue[-1] = OVERFLOW
        else:
            self._queue.append(event)
        if self._drain is None or self._drain.done():
            self._drain = asyncio.ensure_future(self._send_queued())

    async def _send_queued(self) -> None:
        try:
            while self._queue and self.entry is not None:
                await self.send(text_data=json.dumps(self._queue.popleft(), separators=(",", ":")))
        except Exception:
            self._stop()  # the peer went away mid-send: its disconnect follows

    # --- collab.access: what this socket was let in with, and losing it -------------------------

    def access_entry(self) -> Entry | None:
        return self.entry

    def lose_access(self, verdict: str) -> None:
        # Every verdict about a socket with no document is about its credentials.
        if self.entry is not None:
            self._stop()
            asyncio.ensure_future(self.close(codes.NOT_SIGNED_IN, verdict))

    def _stop(self) -> None:
        if self.entry is None:
            return
        user_id, self.entry = self.entry.user_id, None
        feeds().remove(self, user_id)
        get_watcher(self.config).unwatch(self, user_id)

    async def disconnect(self, code):
        self._stop()
        if self._drain is not None:
            self._drain.cancel()

"""The WebSocket endpoint: decides who may connect, turns frames into mailbox messages.

The logic lives in the document's actor; this adapter authenticates, checks
the role, applies the per-connection limits (message size, rate, handshake
time, connections per user), decodes frames (a malformed one closes only
this connection), and drains the actor's output through a bounded send
queue. In a cluster, when another process owns the document, `self.actor` is
a RemoteActor that forwards over the channel layer, and the owner's output
arrives as `collab.frames` events on this consumer's channel.
"""

import asyncio
import collections
import logging
import time

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from . import codes, metrics, protocol
from .access import Entry, Verdict, admit, get_watcher
from .messages import ActorStopped, Incoming, Leave, Unavailable
from .registry import get_registry
from .store import DocumentGone
from .subscriber import QueuedSubscriber
from .transport import TransportGate, send_error

logger = logging.getLogger(__name__)

# A message's bytes beyond the update it carries (type bytes, length varints).
FRAMING = 16

# Open connections per user id in this process (COLLAB_MAX_CONNECTIONS_PER_USER).
_connections_per_user: collections.Counter = collections.Counter()


class HandshakeDeadlines:
    """Closes the sockets that have not sent sync step 1 in time: one task per process, not a timer per socket.

    Every socket gets the same timeout, so the order in which they are added
    is the order of their deadlines: the sweep looks only at the oldest.
    """

    # A socket is closed at most this long after its deadline: the sweep's wake-ups are this far apart at least.
    SLACK = 0.5

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.loop = asyncio.get_running_loop()
        self.pending: dict = {}  # consumer -> deadline (monotonic), oldest first
        self._task: asyncio.Task | None = None

    def add(self, consumer) -> None:
        self.pending[consumer] = time.monotonic() + self.timeout
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._sweep(), name="collab-handshake-deadlines")

    def discard(self, consumer) -> None:
        self.pending.pop(consumer, None)

    async def _sweep(self) -> None:
        while self.pending:
            await asyncio.sleep(max(next(iter(self.pending.values())) - time.monotonic(), 0) + self.SLACK)
            now = time.monotonic()
            while self.pending:
                consumer, deadline = next(iter(self.pending.items()))
                if deadline > now:
                    break
                del self.pending[consumer]
                consumer._reject(codes.HANDSHAKE_TIMEOUT, "no sync started")


_deadlines: HandshakeDeadlines | None = None


def handshake_deadlines(timeout: float) -> HandshakeDeadlines:
    global _deadlines
    if _deadlines is None or _deadlines.loop is not asyncio.get_running_loop():
        _deadlines = HandshakeDeadlines(timeout)
    return _deadlines


class Connection(QueuedSubscriber):
    """The consumer as the actor sees it.

    Under Daphne, frames are written straight to the socket's protocol
    (collab.transport.TransportGate) as long as its transport takes them:
    no task, no queue, no ASGI message per frame. The bytes queued behind a
    full transport, and those it was handed past its high-water mark, count
    against COLLAB_SEND_BUFFER_BYTES. Under another ASGI server, frames go
    through the ASGI `send` from the drain task. A send that fails closes the
    connection with a code; a peer that left mid-send is just forgotten (its
    disconnect follows).
    """

    __slots__ = ("user_id", "_consumer", "_send", "_gate")

    def __init__(self, consumer: "DocumentConsumer", user, can_write: bool, queue_limit: int):
        super().__init__(sid=None, username=user.get_username(), can_write=can_write, queue_limit=queue_limit,
                         buffer_bytes=consumer.config.send_buffer_bytes)
        self.user_id = user.pk
        self._consumer = consumer
        self._send = consumer.base_send
        self._gate = TransportGate.attach(self._send)

    def _write_now(self, frame: bytes) -> bool:
        gate = self._gate
        if gate is None or gate.paused:
            return False
        gate.write((frame,))
        metrics.count_sent(frame)
        return True

    def _held_downstream(self) -> tuple[int, int]:
        return (self._gate.held, self._gate.largest) if self._gate is not None else (0, 0)

    async def _writable(self) -> None:
        if self._gate is not None:
            await self._gate.wait_writable()

    async def _deliver(self, frames: list[bytes]) -> None:
        for frame in frames:
            metrics.count_sent(frame)
        if self._gate is not None:
            return self._gate.write(frames)
        send = self._send
        try:
            for frame in frames:
                await send({"type": "websocket.send", "bytes": frame})
        except Exception as exc:
            error = send_error(exc)
            if error is exc:
                raise
            raise error from exc

    async def _close_peer(self, code: int, reason: str) -> None:
        await self._consumer.close(code, reason)


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up."""

    __slots__ = ("rate", "burst", "tokens", "at")

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.at = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def try_take(self) -> bool:
        """Take a token if one is available now (no waiting, no coroutine: the common case)."""
        self._refill()
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    async def take(self) -> None:
        """Wait until a token is available and take it.

        Meanwhile this connection's next frames wait unread: editor/serve.py stops
        reading a socket whose frames pile up, so TCP slows the sender down.
        """
        self._refill()
        while self.tokens < 1:
            await asyncio.sleep((1 - self.tokens) / self.rate)
            self._refill()
        self.tokens -= 1


class DirectDispatch:
    """A consumer's dispatch without Channels' aclose_old_connections() (a thread hop) before every message.

    For consumers that touch the database only where database_sync_to_async
    does it itself (connect, access changes): DocumentConsumer, collab.feed's FeedConsumer.
    Put it before AsyncWebsocketConsumer in the bases.
    """

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


class DocumentConsumer(DirectDispatch, AsyncWebsocketConsumer):
    connection: Connection | None = None
    actor = None
    document_id = None
    channel_name = None  # single process: none (see __call__)
    _counted_user = None
    _handshake: HandshakeDeadlines | None = None

    async def __call__(self, scope, receive, send):
        # A channel of its own (a name, a queue and a task reading it) only in a cluster, where the
        # owner process sends this socket its frames; access changes reach the process, not the socket.
        try:
            registry = await get_registry()
        except Exception:
            registry = None  # Redis unreachable: connect() says so to the client
        if registry is not None and registry.cluster is None:
            self.channel_layer_alias = None
            return await self._serve(scope, receive, send)
        return await super().__call__(scope, receive, send)

    async def _serve(self, scope, receive, send):
        """Channels' AsyncConsumer.__call__ without a channel layer, reading the socket's messages in turn.

        Channels reads through await_many_dispatch even from one source: per
        frame a new task for receive() and an asyncio.wait (a future, callbacks,
        a set), a tenth of the event loop's CPU at many-docs, and an idle
        socket keeps that task and its waiter. One source needs neither.
        """
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def connect(self):
        # Accept first: closing before accept() would be an HTTP 403 at the handshake.
        await self.accept()
        self.document_id = self.scope["url_route"]["kwargs"]["document_id"]
        try:
            registry = await get_registry()
            admission = await admit(self.scope.get("credentials"), self.document_id, registry.config)
        except Exception:
            logger.exception("document %s: could not check access", self.document_id)
            return await self._refuse(codes.INTERNAL_ERROR, "service unavailable, try again")
        if admission.user is None:
            return await self._refuse(codes.NOT_SIGNED_IN, "not signed in")
        if not admission.exists:
            return await self._refuse(codes.NO_SUCH_DOCUMENT, "no such document")
        if admission.role is None:
            return await self._refuse(codes.NO_ACCESS, "no access to this document")
        user = admission.user
        self.scope.update(user=user, api_token_id=admission.token_id, session_key=admission.session_key,
                          session_auth_hash=admission.session_auth_hash)
        self.config = config = registry.config
        if _connections_per_user[user.pk] >= config.max_connections_per_user:
            return await self._refuse(codes.TOO_MANY_CONNECTIONS, "too many connections for this user")
        _connections_per_user[user.pk] += 1
        self._counted_user = user.pk
        self.bucket = TokenBucket(config.rate_limit, config.rate_burst)
        self.connection = Connection(self, user, admission.can_write, config.send_queue_limit)
        get_watcher(config).watch(self, user.pk)
        self._handshake = handshake_deadlines(config.handshake_timeout)
        self._handshake.add(self)
        try:
            self.actor = await registry.join(self.document_id, self.connection, self.channel_name)
        except DocumentGone:
            # Deleted between the access check and the join.
            self.connection.stop()
            return await self._refuse(codes.NO_SUCH_DOCUMENT, "no such document")
        except Unavailable:
            # Logged once where it gave up (registry/cluster), not once per socket.
            self.connection.stop()
            return await self._refuse(codes.INTERNAL_ERROR, "document unavailable, try again")
        except Exception:
            logger.exception("document %s: could not open", self.document_id)
            self.connection.stop()
            return await self._refuse(codes.INTERNAL_ERROR, "document unavailable, try again")

    async def _refuse(self, code: int, reason: str) -> None:
        """Close a connection that may not open (counted for collab.metrics by close code)."""
        metrics.refused[code] += 1
        await self.close(code, reason)

    async def close(self, code=None, reason=None):
        # Every close this server sends its clients passes here (refusals, limits, bad input, restarts).
        metrics.closed[codes.NORMAL if code is None or code is True else code] += 1
        await super().close(code, reason)

    async def receive(self, text_data=None, bytes_data=None):
        connection = self.connection
        if connection is None or connection.closed or self.actor is None:
            return
        if bytes_data is None:
            return self._reject(codes.BAD_MESSAGE, "expected binary y-websocket frames")
        if len(bytes_data) > self.config.max_document_size + FRAMING:
            # One message may carry a whole document (a long paste, a sync step 2).
            return self._reject(codes.TOO_LARGE, f"message over the document size limit of "
                                                 f"{self.config.max_document_size} bytes")
        # Over the message rate, wait rather than close: the sender is slowed, nothing is lost.
        if not self.bucket.try_take():
            await self.bucket.take()
            if connection.closed:
                return
        try:
            message = protocol.decode(bytes_data)
        except protocol.ProtocolError as exc:
            return self._reject(codes.BAD_MESSAGE, f"malformed frame: {exc}")
        metrics.received[type(message)] += 1
        if self._handshake is not None and isinstance(message, protocol.SyncStep1):
            self._handshake.discard(self)
            self._handshake = None
        try:
            await self.actor.tell(Incoming(connection, message))
        except ActorStopped:
            # The actor failed or stopped under us: reconnecting resyncs with its successor.
            self._reject(codes.INTERNAL_ERROR, "document restarted, reconnect")

    def _reject(self, code: int, reason: str) -> None:
        if self.connection is None or self.connection.closed:
            return
        logger.info("document %s: closing a connection with %s: %s", self.document_id, code, reason)
        if self.actor is not None:
            self.actor.post(Leave(self.connection))
        self.connection.close(code, reason[:120])

    # --- events from the channel layer ---------------------------------------------------

    def access_entry(self) -> Entry | None:
        """What this socket was let in with, while connected, for collab.access."""
        if self.connection is None or self.connection.closed:
            return None
        scope = self.scope
        return Entry(
            user_id=self.connection.user_id,
            document_id=self.document_id,
            can_write=self.connection.can_write,
            token_id=scope.get("api_token_id"),
            session_key=scope.get("session_key"),
            session_auth_hash=scope.get("session_auth_hash"),
        )

    def lose_access(self, verdict: str) -> None:
        code = {
            Verdict.TOKEN_REVOKED: codes.NOT_SIGNED_IN,
            Verdict.SIGNED_OUT: codes.NOT_SIGNED_IN,
            Verdict.NO_DOCUMENT: codes.NO_SUCH_DOCUMENT,
            Verdict.NO_ROLE: codes.NO_ACCESS,
        }.get(verdict, codes.ROLE_CHANGED)  # reconnect with the new rights
        self._reject(code, verdict)

    async def collab_frames(self, event):
        """Cluster mode: frames the owner process sent to this connection."""
        if self.actor is not None and self.connection is not None and not self.connection.closed:
            self.actor.deliver(event)

    async def collab_close(self, event):
        """Cluster mode: the owner process closed this connection."""
        if self.connection is not None:
            self.connection.close(event["code"], event.get("reason", ""))

    async def disconnect(self, code):
        if self._handshake is not None:
            self._handshake.discard(self)
        if self._counted_user is not None:
            _connections_per_user[self._counted_user] -= 1
            if _connections_per_user[self._counted_user] <= 0:
                del _connections_per_user[self._counted_user]
            get_watcher(self.config).unwatch(self, self._counted_user)
        if self.connection is not None:
            self.connection.stop()
            if self.actor is not None:
                self.actor.post(Leave(self.connection))

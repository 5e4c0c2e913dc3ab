"""The WebSocket endpoint: decides who may connect, turns frames into mailbox messages.

The logic lives in the document's actor; this adapter authenticates, checks
the role, decodes frames (a malformed one closes only this connection), and
drains the actor's output through a bounded send queue. In a cluster, when
another process owns the document, `self.actor` is a RemoteActor that
forwards over the channel layer, and the owner's output arrives as
`collab.frames` events on this consumer's channel.
"""

import asyncio
import logging
import uuid

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from . import codes, protocol
from .config import CollabConfig
from .messages import ActorStopped, Incoming, Leave
from .registry import get_registry

logger = logging.getLogger(__name__)


@database_sync_to_async
def _role_of(user, document_id):
    from documents.models import WRITE_ROLES
    from documents.selectors import NoSuchDocument, document_role

    try:
        role = document_role(user, document_id)
    except NoSuchDocument:
        return False, None, False
    return True, role, role in WRITE_ROLES


class Connection:
    """The consumer as the actor sees it: a Subscriber with a bounded send queue."""

    def __init__(self, consumer: "DocumentConsumer", user, can_write: bool, queue_limit: int):
        self.sid = uuid.uuid4().hex
        self.username = user.get_username()
        self.user_id = user.pk
        self.can_write = can_write
        self.closed = False
        self._consumer = consumer
        self._queue: asyncio.Queue = asyncio.Queue(queue_limit)
        self._pump = asyncio.create_task(self._drain())

    def send(self, frame: bytes) -> None:
        if self.closed:
            return
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            # A subscriber that cannot keep up is dropped; on reconnect it resyncs.
            self.close(codes.TRY_AGAIN_LATER, "too slow")

    def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        self._pump.cancel()
        asyncio.get_running_loop().create_task(self._consumer.close(code, reason))

    async def _drain(self) -> None:
        while True:
            frame = await self._queue.get()
            await self._consumer.send(bytes_data=frame)

    def stop(self) -> None:
        self.closed = True
        self._pump.cancel()


class DocumentConsumer(AsyncWebsocketConsumer):
    connection: Connection | None = None
    actor = None

    async def dispatch(self, message):
        # Channels' dispatch runs aclose_old_connections() (a thread hop) before
        # every frame; we touch the database only in connect, which does it itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        # Accept first: closing before accept() would be an HTTP 403 at the handshake.
        await self.accept()
        self.config = CollabConfig.from_settings()
        document_id = self.scope["url_route"]["kwargs"]["document_id"]
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return await self.close(codes.NOT_SIGNED_IN, "not signed in")
        exists, role, can_write = await _role_of(user, document_id)
        if not exists:
            return await self.close(codes.NO_SUCH_DOCUMENT, "no such document")
        if role is None:
            return await self.close(codes.NO_ACCESS, "no access to this document")
        self.connection = Connection(self, user, can_write, self.config.send_queue_limit)
        try:
            registry = await get_registry()
            self.actor = await registry.join(document_id, self.connection, self.channel_name)
        except Exception:
            logger.exception("document %s: could not open", document_id)
            self.connection.stop()
            self.connection = None
            return await self.close(codes.INTERNAL_ERROR, "document unavailable, try again")

    async def receive(self, text_data=None, bytes_data=None):
        connection = self.connection
        if connection is None or connection.closed:
            return
        if bytes_data is None:
            return self._reject(codes.BAD_MESSAGE, "expected binary y-websocket frames")
        if len(bytes_data) > self.config.max_message_size:
            return self._reject(codes.MESSAGE_TOO_BIG, f"message over {self.config.max_message_size} bytes")
        try:
            message = protocol.decode(bytes_data)
        except protocol.ProtocolError as exc:
            return self._reject(codes.BAD_MESSAGE, f"malformed frame: {exc}")
        try:
            await self.actor.tell(Incoming(connection, message))
        except ActorStopped:
            # The actor failed or stopped under us: reconnecting resyncs with its successor.
            self._reject(codes.INTERNAL_ERROR, "document restarted, reconnect")

    def _reject(self, code: int, reason: str) -> None:
        logger.info("closing a connection with %s: %s", code, reason)
        if self.actor is not None:
            self.actor.post(Leave(self.connection))
        self.connection.close(code, reason[:120])

    # Cluster mode: what the owner process sends to a connection it serves remotely.

    async def collab_frames(self, event):
        if self.actor is not None and self.connection is not None and not self.connection.closed:
            self.actor.deliver(event)

    async def collab_close(self, event):
        if self.connection is not None:
            self.connection.close(event["code"], event.get("reason", ""))

    async def disconnect(self, code):
        if self.connection is not None:
            self.connection.stop()
            if self.actor is not None:
                self.actor.post(Leave(self.connection))

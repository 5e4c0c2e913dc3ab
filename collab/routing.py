"""WebSocket routes: the document socket, the user's feed, and a clean refusal for any other path."""

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from . import codes
from .consumer import DocumentConsumer
from .feed import FeedConsumer


class NoSuchPath(AsyncWebsocketConsumer):
    """Any other WebSocket path: a final close with a reason, not a 500 and a traceback.

    (Channels' URLRouter raises for an unrouted path; Daphne turns that into an
    HTTP 500 at the handshake, which y-websocket's provider retries forever.)
    Accept first: closing before accept() would be an HTTP 403 with no reason.
    """

    channel_layer_alias = None  # needs no channel of its own

    async def connect(self):
        await self.accept()
        await self.close(codes.NO_SUCH_DOCUMENT, "no such WebSocket path: use /ws/documents/<document id> or /ws/feed/")


document = DocumentConsumer.as_asgi()
feed = FeedConsumer.as_asgi()

websocket_urlpatterns = [
    path("ws/documents/<uuid:document_id>/", document),
    # y-websocket's provider joins server URL and room name with "/": the natural
    # `new WebsocketProvider("ws://host/ws/documents", id, doc)` has no trailing slash.
    path("ws/documents/<uuid:document_id>", document),
    # The signed-in user's events (collab.feed): what their document list shows changed.
    path("ws/feed/", feed),
    path("ws/feed", feed),
    re_path(r"", NoSuchPath.as_asgi()),
]

"""ASGI entry point: HTTP goes to Django, WebSockets to the collab consumer."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "editor.settings")
# Django must be set up before anything imports models (the consumer does).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from django.conf import settings  # noqa: E402

from collab.auth import WebSocketAuthStack  # noqa: E402
from collab.routing import websocket_urlpatterns  # noqa: E402
from collab.security import OriginValidator  # noqa: E402
from editor.forwarded import ForwardedClient  # noqa: E402

# Behind a trusted proxy, the client's address is the one the proxy names (REMOTE_ADDR, scope["client"]).
application = ForwardedClient(ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(WebSocketAuthStack(URLRouter(websocket_urlpatterns))),
    }
), settings.TRUSTED_PROXIES)

"""WebSocket authentication: `Authorization: Bearer <token>`, else the session cookie.

Both are resolved once, at the handshake. We do not use Channels'
AuthMiddlewareStack: its session middleware wraps `send` to save the session,
checking the lazy session on every outgoing frame (a quarter of the server's
CPU under load, measured with py-spy in bench/), and a socket never changes
the session.
"""

import types

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.http.cookie import parse_cookie


@database_sync_to_async
def _token_owner(raw: str):
    """(user, token id) of an active token, or None."""
    from documents.selectors import token_for_raw

    token = token_for_raw(raw)
    return (token.user, token.pk) if token else None


@database_sync_to_async
def _session_user(session_key: str):
    """The user of a Django session, as a request would see it (AnonymousUser if none)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_user

    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return get_user(types.SimpleNamespace(session=session))


class WebSocketAuthMiddleware(BaseMiddleware):
    """Sets scope["user"] (and scope["api_token_id"] for token auth).

    A wrong or revoked token leaves the user anonymous (the consumer then
    closes with 4401) rather than falling back to the cookie: a script that
    sends a token means to be that token's user.
    """

    async def __call__(self, scope, receive, send):
        from django.conf import settings
        from django.contrib.auth.models import AnonymousUser

        scope = dict(scope, user=AnonymousUser(), api_token_id=None)
        headers = dict(scope.get("headers", ()))
        scheme, _, raw = headers.get(b"authorization", b"").decode("latin1").partition(" ")
        if scheme.lower() == "bearer":
            found = await _token_owner(raw.strip())
            if found:
                scope["user"], scope["api_token_id"] = found
        else:
            cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin1"))
            session_key = cookies.get(settings.SESSION_COOKIE_NAME)
            if session_key:
                scope["user"] = await _session_user(session_key)
        return await super().__call__(scope, receive, send)


def WebSocketAuthStack(inner):
    return WebSocketAuthMiddleware(inner)

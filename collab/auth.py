"""WebSocket authentication: `Authorization: Bearer <token>`, else the session cookie.

Both are resolved once, at the handshake; the session's key and the user's
session auth hash are kept in the scope so that collab.access can tell later
that the session ended (sign-out, password change, deactivation, expiry).

The session cookie counts only on a handshake that carries `Origin`, which
collab.security has checked against ALLOWED_HOSTS. Browsers always send it;
a handshake without it is a script, which must use a token (README). So
every cookie-authenticated socket has passed the Origin check, not only
those whose client chose to send the header.

We do not use Channels' AuthMiddlewareStack: its session middleware wraps `send` to save the session,
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
    """(user, session auth hash) of a Django session, as a request would see it (AnonymousUser, None if none)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_user

    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(types.SimpleNamespace(session=session))
    auth_hash = user.get_session_auth_hash() if user.is_authenticated else None
    return user, auth_hash


class WebSocketAuthMiddleware(BaseMiddleware):
    """Sets scope["user"], and scope["api_token_id"] (token auth) or scope["session_key"] and
    scope["session_auth_hash"] (cookie auth).

    A wrong or revoked token leaves the user anonymous (the consumer then
    closes with 4401) rather than falling back to the cookie: a script that
    sends a token means to be that token's user.
    """

    async def __call__(self, scope, receive, send):
        from django.conf import settings
        from django.contrib.auth.models import AnonymousUser

        scope = dict(scope, user=AnonymousUser(), api_token_id=None, session_key=None, session_auth_hash=None)
        headers = dict(scope.get("headers", ()))
        scheme, _, raw = headers.get(b"authorization", b"").decode("latin1").partition(" ")
        if scheme.lower() == "bearer":
            found = await _token_owner(raw.strip())
            if found:
                scope["user"], scope["api_token_id"] = found
        elif b"origin" in headers:  # a browser: its Origin was checked by collab.security
            cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin1"))
            session_key = cookies.get(settings.SESSION_COOKIE_NAME)
            if session_key:
                scope["user"], scope["session_auth_hash"] = await _session_user(session_key)
                if scope["user"].is_authenticated:
                    scope["session_key"] = session_key
        return await super().__call__(scope, receive, send)


def WebSocketAuthStack(inner):
    return WebSocketAuthMiddleware(inner)

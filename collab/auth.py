"""WebSocket authentication: `Authorization: Bearer <token>`, else the session cookie.

The middleware only picks the credentials out of the handshake (no database):
the consumer resolves them together with the user's role on the document in
one lookup (collab.access.admit), cached for a short time. The session's key
and the user's session auth hash are kept so that collab.access can tell later
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
from typing import NamedTuple

from channels.middleware import BaseMiddleware
from django.http.cookie import parse_cookie

from .config import CollabConfig, backend


class BaseTokenBackend:
    """Whose a bearer token is: the project's API tokens (COLLAB_TOKEN_BACKEND).

    Methods run in a worker thread (the sync ORM is fine).
    """

    def authenticate(self, raw: str):
        """(user, token id) of the active token `raw` stands for, or None."""
        raise NotImplementedError("subclasses of BaseTokenBackend must provide authenticate()")

    def active(self, token_ids: set) -> set:
        """Those of `token_ids` that still sign their user in (not revoked, user active), in one query."""
        raise NotImplementedError("subclasses of BaseTokenBackend must provide active()")


def token_backend() -> BaseTokenBackend:
    """The project's BaseTokenBackend, named by COLLAB_TOKEN_BACKEND."""
    return backend("TOKEN_BACKEND", CollabConfig.from_settings().token_backend, BaseTokenBackend)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value; None for no header or another scheme.

    The one parser of the header, for the WebSocket, the REST API and the
    health views. A bearer header with no token gives "" (which no token
    matches): the caller meant a token, so it must not fall back to the cookie.
    """
    scheme, _, raw = (authorization or "").partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else None


class Credentials(NamedTuple):
    """What a handshake presents: a bearer token (scripts) or a session key (browsers), or neither."""

    token: str | None = None
    session_key: str | None = None


def session_user(session_key: str):
    """(user, session auth hash) of a Django session, as a request would see it (AnonymousUser, None if none).

    Sync (a worker thread): the session, then the user.
    """
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_user

    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(types.SimpleNamespace(session=session))
    auth_hash = user.get_session_auth_hash() if user.is_authenticated else None
    return user, auth_hash


class WebSocketAuthMiddleware(BaseMiddleware):
    """Sets scope["credentials"] (collab.auth.Credentials) and scope["user"] = AnonymousUser;
    the consumer puts the signed-in user there once collab.access.admit has resolved them.

    A bearer header wins over the cookie: a wrong or revoked token leaves the
    user anonymous (the consumer then closes with 4401) rather than falling
    back to the cookie, since a script that sends a token means to be that token's user.
    """

    async def __call__(self, scope, receive, send):
        from django.conf import settings
        from django.contrib.auth.models import AnonymousUser

        credentials = Credentials()
        headers = dict(scope.get("headers", ()))
        raw = bearer_token(headers.get(b"authorization", b"").decode("latin1"))
        if raw is not None:
            credentials = Credentials(token=raw)
        elif b"origin" in headers:  # a browser: its Origin was checked by collab.security
            cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin1"))
            session_key = cookies.get(settings.SESSION_COOKIE_NAME)
            if session_key:
                credentials = Credentials(session_key=session_key)
        scope = dict(scope, user=AnonymousUser(), credentials=credentials)
        return await super().__call__(scope, receive, send)


def WebSocketAuthStack(inner):
    return WebSocketAuthMiddleware(inner)

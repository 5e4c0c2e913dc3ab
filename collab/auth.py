"""WebSocket authentication: `Authorization: Bearer <token>` or the session cookie."""

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware


@database_sync_to_async
def _token_owner(raw: str):
    """(user, token id) of an active token, or None."""
    from documents.selectors import token_for_raw

    token = token_for_raw(raw)
    return (token.user, token.pk) if token else None


class BearerTokenMiddleware(BaseMiddleware):
    """Sets scope["user"] from a bearer token when the client sends one.

    A wrong or revoked token leaves the user anonymous (the consumer then
    closes with 4401) rather than falling back to the cookie: a script that
    sends a token means to be that token's user.
    """

    async def __call__(self, scope, receive, send):
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, raw = value.decode("latin1").partition(" ")
                if scheme.lower() == "bearer":
                    from django.contrib.auth.models import AnonymousUser

                    found = await _token_owner(raw.strip())
                    scope = dict(scope, auth_method="token")
                    scope["user"], scope["api_token_id"] = found if found else (AnonymousUser(), None)
                break
        return await super().__call__(scope, receive, send)


def WebSocketAuthStack(inner):
    # Session auth runs first; a bearer token, if present, then decides.
    return AuthMiddlewareStack(BearerTokenMiddleware(inner))

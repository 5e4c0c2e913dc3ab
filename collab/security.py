"""Origin checking for WebSockets."""

from channels.security.websocket import AllowedHostsOriginValidator


class OriginValidator:
    """AllowedHostsOriginValidator, except that a missing Origin is allowed.

    Browsers always send Origin on a WebSocket handshake, so cross-site
    hijacking of the session cookie is stopped by checking it against
    ALLOWED_HOSTS. Scripts (pycrdt clients, the benchmark) send no Origin and
    authenticate with a bearer token, which a hostile page cannot attach:
    without Origin, collab.auth ignores the session cookie.
    """

    def __init__(self, application):
        self.application = application
        self.validated = AllowedHostsOriginValidator(application)

    async def __call__(self, scope, receive, send):
        has_origin = any(name == b"origin" for name, _ in scope.get("headers", ()))
        if has_origin:
            return await self.validated(scope, receive, send)
        return await self.application(scope, receive, send)

"""WebSocket close codes used by the server (DESIGN.md, "The public interface")."""

NORMAL = 1000
INTERNAL_ERROR = 1011  # the document's actor failed; reconnect and resync
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013  # the peer could not keep up; reconnect and resync
BAD_MESSAGE = 4400
NOT_SIGNED_IN = 4401
NO_ACCESS = 4403
NO_SUCH_DOCUMENT = 4404

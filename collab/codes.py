"""WebSocket close codes used by the server (DESIGN.md, "The public interface").

Daphne's WebSocket stack (autobahn) lets an application close only with 1000
or 3000-4999, so the standard 1009 / 1011 / 1013 cannot be sent. We use the
same numbers in the private range: 4009, 4011, 4013.
"""

NORMAL = 1000
MESSAGE_TOO_BIG = 4009  # 1009: a frame over COLLAB_MAX_MESSAGE_SIZE
INTERNAL_ERROR = 4011  # 1011: the document's actor failed or is unavailable; reconnect and resync
TRY_AGAIN_LATER = 4013  # 1013: the peer could not keep up, or the server is stopping; reconnect
BAD_MESSAGE = 4400  # a malformed frame or update
HANDSHAKE_TIMEOUT = 4408  # connected but never started the sync
DOCUMENT_TOO_LARGE = 4413  # the update would take the document over COLLAB_MAX_DOCUMENT_SIZE
TOO_MANY = 4429  # over the update rate, or too many connections (per document or per user)
NOT_SIGNED_IN = 4401
NO_ACCESS = 4403
NO_SUCH_DOCUMENT = 4404

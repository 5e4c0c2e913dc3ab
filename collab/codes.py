"""WebSocket close codes used by the server (DESIGN.md, "The public interface").

Chosen by what the client should do next. y-websocket's provider treats every
code in 4400-4499 as final (it stops reconnecting) and reconnects, with
backoff, after any other. So:

- FINAL codes (4400-4499): reconnecting cannot help (not signed in, no access,
  no such document, malformed data, too large). The client stops; a person
  must act.
- TRANSIENT codes (4000-4099): the condition passes (a limit, a restart, a
  slow link, a changed role). The provider comes back by itself and resyncs,
  so nothing typed is stranded.

Daphne's WebSocket stack (autobahn) lets an application close only with 1000
or 3000-4999, so the standard 1011 / 1013 are sent as 4011 / 4013.

The browser's reconnect rules (frontend/js/connection.js) list the same codes;
a test checks that both lists agree.
"""

NORMAL = 1000

# --- transient: the client reconnects by itself ---------------------------------------
ROLE_CHANGED = 4003  # the user's role on the document changed: reconnect with the new rights
HANDSHAKE_TIMEOUT = 4008  # connected but never started the sync
INTERNAL_ERROR = 4011  # 1011: the document's actor failed or is unavailable; reconnect and resync
TRY_AGAIN_LATER = 4013  # 1013: too slow to keep up, the server is stopping, messages between servers were lost
TOO_MANY_CONNECTIONS = 4029  # too many connections to the document or for the user, for now

# --- final: the client stops ---------------------------------------------------------
BAD_MESSAGE = 4400  # a malformed frame or update (only the sender is closed)
NOT_SIGNED_IN = 4401  # no session, wrong or revoked token, signed out, session ended
NO_ACCESS = 4403  # no role on this document
NO_SUCH_DOCUMENT = 4404  # no such document (or it was deleted)
TOO_LARGE = 4413  # a message, or the document it would make, over COLLAB_MAX_DOCUMENT_SIZE

TRANSIENT = frozenset({ROLE_CHANGED, HANDSHAKE_TIMEOUT, INTERNAL_ERROR, TRY_AGAIN_LATER, TOO_MANY_CONNECTIONS})
FINAL = frozenset({BAD_MESSAGE, NOT_SIGNED_IN, NO_ACCESS, NO_SUCH_DOCUMENT, TOO_LARGE})

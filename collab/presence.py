"""Presence: who owns which awareness client ids, and what a connection may announce.

In the y-websocket protocol any peer may send an awareness entry for any
client id, and y-websocket clients do send others' entries: they relay every
awareness change they receive, the server's included. A server that passes
everything on lets one connection speak for everyone (issue 11): overwrite or
remove another person's presence, flood thousands of ids, put `url(...)` in a
colour that every browser then fetches, or claim to be the server and make
other people's editors show "Saved" for edits that were never stored.

So the server keeps the document's presence (a pycrdt `Awareness`, with its own
entry: `{"server": true, "saved": ...}`) and lets each connection change only
what is its own:

- A connection owns the client ids it announces first, until it leaves (when
  they are removed for everyone). Entries for ids owned by another connection
  or by the server are dropped without a word: an honest client relays them.
- An entry must be news (a newer clock, as y-protocols decides): a late relay
  of someone who has left cannot bring them back or become the relayer's.
- An entry must not carry `server`, `saved` or `restored` (only the server's
  does: `restored` is its notice after a restore). It must
  stay under MAX_ENTRY_SIZE, and where it has a `user` object, its `username`
  must be the connection's own and its `color` a plain #rgb / #rrggbb.
  Breaking these drops the entry: the harm is gone once it is not passed on,
  and closing with a final code would strand a client that merely shaped its
  state differently (a colour written "red") while its person keeps typing.
- A `cursor` (y-prosemirror's, which Tiptap's carets draw) must be null or
  two well-formed relative positions: Yjs throws on others inside every
  peer's editor plugin, which then stops taking keystrokes.
- More than MAX_IDS_PER_CONNECTION ids from one connection is refused with
  `Refused` (the actor closes it, 4400): no y-websocket client announces more
  than its one id, and a flood costs every other peer until it stops.

Pure bookkeeping: frames in, frames out, no I/O; the actor sends them.
"""

import base64
import json
import logging
import re

from pycrdt import Awareness, Doc

from . import protocol

logger = logging.getLogger(__name__)

# A browser tab announces one id (its Y.Doc's); a little room for clients that
# make a new one after an id clash, none for floods.
MAX_IDS_PER_CONNECTION = 4
# An editor's entry (name, colour, two cursor positions) is a few hundred bytes.
MAX_ENTRY_SIZE = 4 * 1024
# The only colours passed on: nothing in them can load a URL or end a CSS declaration.
PLAIN_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
# Fields of the server's own entry, which no client may announce: `restored` is a notice the
# server announces after a restore (collab.messages.Edit.notice), so that no one can fake one.
SERVER_FIELDS = ("server", "saved", "restored")


class Refused(Exception):
    """A connection broke a presence rule badly enough to be closed."""


class Presence:
    """The awareness states of one document and which connection owns each."""

    def __init__(self, doc: Doc):
        self._awareness = Awareness(doc)
        self._owned: dict[str, set[int]] = {}  # connection id -> client ids it announced
        self._owner: dict[int, str] = {}  # client id -> the connection that announced it
        self._saved = ""  # the server entry's `saved`, base64
        self._notices: dict = {}  # the server entry's other fields (see `announce`)

    @property
    def server_id(self) -> int:
        """The server's own awareness client id."""
        return self._awareness.client_id

    @property
    def states(self) -> dict[int, dict]:
        return self._awareness.states

    def everyone(self) -> bytes:
        """The awareness frame of every present state (for a newcomer, or a query)."""
        return self._frame(list(self._awareness.states))

    def publish_saved(self, state_vector: bytes) -> bytes:
        """Set the server's entry to say which state is durably stored; its awareness frame."""
        self._saved = base64.b64encode(state_vector).decode()
        self._awareness.set_local_state({**self._notices, "server": True, "saved": self._saved})
        return self._frame([self.server_id])

    def announce(self, notice: dict) -> bytes:
        """Add fields to the server's entry (e.g. `restored`), kept beside `saved`; its awareness frame.

        A notice for everyone who has the document open (clients show it when
        the field changes); no client may announce these fields itself.
        """
        self._notices.update({k: v for k, v in notice.items() if k not in ("server", "saved")})
        self._awareness.set_local_state({**self._notices, "server": True, "saved": self._saved})
        return self._frame([self.server_id])

    def receive(self, sid: str, username: str, entries) -> bytes | None:
        """Apply what connection `sid` (signed in as `username`) may change; the frame to pass on, if any.

        Raises Refused if the connection announces more ids than one may.
        """
        owned = self._owned.setdefault(sid, set())
        accepted = []
        for entry in entries:
            client_id, clock, state = entry
            owner = self._owner.get(client_id)
            if client_id == self.server_id or (owner is not None and owner != sid):
                continue  # someone else's: relayed by an honest client, or forged
            if not self._is_news(client_id, clock, state):
                continue
            if owner is None:
                if len(owned) >= MAX_IDS_PER_CONNECTION:
                    raise Refused(f"announced more than {MAX_IDS_PER_CONNECTION} awareness client ids")
                owned.add(client_id)
                self._owner[client_id] = sid
            problem = _problem(state, username)
            if problem is not None:
                logger.info("refused the presence of %s (client %d): %s", username, client_id, problem)
                continue
            accepted.append(entry)
        if not accepted:
            return None
        payload = protocol.encode_awareness_entries(accepted)
        self._awareness.apply_awareness_update(payload, origin=sid)
        return protocol.encode_awareness(payload)

    def leave(self, sid: str) -> bytes | None:
        """Forget connection `sid`; the frame that removes its states for the others, if it had any."""
        owned = self._owned.pop(sid, ())
        for client_id in owned:
            self._owner.pop(client_id, None)
        present = [client_id for client_id in owned if client_id in self._awareness.states]
        if not present:
            return None
        self._awareness.remove_awareness_states(present, origin=sid)
        return self._frame(present)

    def _is_news(self, client_id: int, clock: int, state: str) -> bool:
        # y-protocols' rule: a newer clock, or a removal at the same clock of a present state.
        meta = self._awareness.meta.get(client_id)
        current = meta["clock"] if meta is not None else 0
        return clock > current or (clock == current and _is_removal(state) and client_id in self._awareness.states)

    def _frame(self, client_ids: list[int]) -> bytes:
        return protocol.encode_awareness(self._awareness.encode_awareness_update(client_ids))


def _is_removal(state: str) -> bool:
    return state in ("", "null")


def _problem(state: str, username: str) -> str | None:
    """Why a connection signed in as `username` may not announce this state (None: it may)."""
    if _is_removal(state):
        return None
    if len(state.encode("utf-8")) > MAX_ENTRY_SIZE:
        return f"an entry over {MAX_ENTRY_SIZE} bytes"
    value = json.loads(state)  # a JSON object: protocol.decode checked it
    if any(name in value for name in SERVER_FIELDS):
        return "an entry with the server's fields"
    cursor = value.get("cursor")
    if cursor is not None and not (
        isinstance(cursor, dict) and _is_relative_position(cursor.get("anchor"))
        and _is_relative_position(cursor.get("head"))
    ):
        return "a cursor that is not two relative positions"
    user = value.get("user")
    if user is None:
        return None
    if not isinstance(user, dict):
        return "a user that is not an object"
    if user.get("username") != username:
        return f"a user named {user.get('username')!r}"
    color = user.get("color")
    if color is not None and not (isinstance(color, str) and PLAIN_COLOR.fullmatch(color)):
        return f"a colour that is not #rgb or #rrggbb: {str(color)[:40]!r}"
    return None


def _is_relative_position(position) -> bool:
    """Is this the JSON of a Yjs RelativePosition (`Y.relativePositionToJSON`) that Yjs can read back?"""
    if not isinstance(position, dict):
        return False
    tname, assoc = position.get("tname"), position.get("assoc")
    if (tname is not None and not isinstance(tname, str)) or (assoc is not None and not _is_int(assoc)):
        return False
    ids = [position.get("type"), position.get("item")]
    if not all(i is None or (isinstance(i, dict) and _is_int(i.get("client")) and _is_int(i.get("clock")))
               for i in ids):
        return False
    # It must point somewhere, else Yjs raises "Unexpected case".
    return any(i is not None for i in ids) or tname is not None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

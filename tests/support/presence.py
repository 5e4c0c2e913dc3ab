"""Hand-made awareness frames, as a hostile or buggy client would send them."""

import base64
import json

from pycrdt import write_var_uint

from collab import protocol


def awareness_frame(*entries) -> bytes:
    """An awareness frame of (client id, clock, state dict or None for a removal) entries."""
    return protocol.encode_awareness(protocol.encode_awareness_entries(
        [(client_id, clock, "null" if state is None else json.dumps(state)) for client_id, clock, state in entries]
    ))


def forged_saved(client_id: int) -> dict:
    """A server-like entry claiming that every edit of `client_id` (up to clock 2^32) is stored."""
    vector = write_var_uint(1) + write_var_uint(client_id) + write_var_uint(2**32)
    return {"server": True, "saved": base64.b64encode(vector).decode()}

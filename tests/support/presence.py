"""Awareness (presence) entries and hand-made frames, as honest, hostile or buggy clients send them."""

import base64
import json

from pycrdt import write_var_uint

from collab import protocol

COLOR = "#3e63dd"


def person(username: str, name: str = "Someone", color: str = COLOR) -> dict:
    """The presence state the editor announces for a user."""
    return {"user": {"username": username, "name": name, "initials": name[:2].upper(), "color": color}}


def entry(client_id: int, clock: int, state: dict | None) -> tuple[int, int, str]:
    """(client id, clock, JSON state) as on the wire; a state of None is a removal."""
    return (client_id, clock, "null" if state is None else json.dumps(state))


def awareness_frame(*entries) -> bytes:
    """An awareness frame of (client id, clock, state dict or None for a removal) entries."""
    return protocol.encode_awareness(protocol.encode_awareness_entries([entry(*e) for e in entries]))


def forged_saved(client_id: int) -> dict:
    """A server-like entry claiming that every edit of `client_id` (up to clock 2^32) is stored."""
    vector = write_var_uint(1) + write_var_uint(client_id) + write_var_uint(2**32)
    return {"server": True, "saved": base64.b64encode(vector).decode()}

"""The y-websocket wire protocol: bytes in, typed messages out. No I/O.

A frame is `varuint message_type` then a payload:
- SYNC (0): `varuint sync_type` + `varbytes`: step 1 carries a state vector,
  step 2 and update carry a Yjs update.
- AWARENESS (1): `varbytes` awareness update.
- QUERY_AWARENESS (3): no payload; the peer wants every awareness state.

Encoding uses pycrdt's helpers. Decoding is our own only because pycrdt's
`Decoder` trusts its input (a declared length past the end is silently
truncated, a truncated varuint raises IndexError): a server must tell a
malformed frame from a good one before anything reaches the document.
"""

import json
from dataclasses import dataclass, field
from enum import IntEnum

from pycrdt import (
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_update_message,
    write_var_uint,
)
from pycrdt._sync import create_sync_step1_message, create_sync_step2_message


class MessageType(IntEnum):
    SYNC = YMessageType.SYNC
    AWARENESS = YMessageType.AWARENESS
    AUTH = 2
    QUERY_AWARENESS = 3


class SyncType(IntEnum):
    STEP1 = YSyncMessageType.SYNC_STEP1
    STEP2 = YSyncMessageType.SYNC_STEP2
    UPDATE = YSyncMessageType.SYNC_UPDATE


class ProtocolError(ValueError):
    """A frame that is not a well-formed y-websocket message."""


@dataclass(frozen=True, slots=True)
class SyncStep1:
    # The sender's state vector: it asks for everything it lacks.
    state_vector: bytes


@dataclass(frozen=True, slots=True)
class SyncStep2:
    # A Yjs update with what the receiver lacked.
    update: bytes


@dataclass(frozen=True, slots=True)
class Update:
    # A Yjs update made by the sender.
    update: bytes


@dataclass(frozen=True, slots=True)
class AwarenessUpdate:
    # An encoded awareness update (client ids, clocks, JSON states).
    payload: bytes
    # Its (client id, clock, JSON state) entries, parsed and checked once by `decode`.
    entries: tuple[tuple[int, int, str], ...] = field(compare=False)


@dataclass(frozen=True, slots=True)
class QueryAwareness:
    pass


Message = SyncStep1 | SyncStep2 | Update | AwarenessUpdate | QueryAwareness

# An update that changes nothing: no structs, empty delete set.
EMPTY_UPDATE = b"\x00\x00"


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def varuint(self) -> int:
        result = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise ProtocolError("truncated varuint")
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ProtocolError("varuint longer than 64 bits")

    def varbytes(self) -> bytes:
        length = self.varuint()
        end = self.pos + length
        if end > len(self.data):
            raise ProtocolError(f"declared length {length} exceeds the {len(self.data) - self.pos} bytes left")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def string(self) -> str:
        try:
            return self.varbytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"invalid UTF-8 in string: {exc}") from None


def decode(frame: bytes) -> Message:
    """Parse one WebSocket binary frame. Raises ProtocolError if it is malformed."""
    reader = _Reader(frame)
    kind = reader.varuint()
    if kind == MessageType.SYNC:
        sync_type = reader.varuint()
        payload = reader.varbytes()
        if sync_type == SyncType.STEP1:
            message = SyncStep1(payload)
        elif sync_type == SyncType.STEP2:
            message = SyncStep2(payload)
        elif sync_type == SyncType.UPDATE:
            message = Update(payload)
        else:
            raise ProtocolError(f"expected a sync type 0, 1 or 2, got {sync_type}")
    elif kind == MessageType.AWARENESS:
        payload = reader.varbytes()
        message = AwarenessUpdate(payload, parse_awareness(payload))
    elif kind == MessageType.QUERY_AWARENESS:
        message = QueryAwareness()
    else:
        raise ProtocolError(f"expected message type 0 (sync), 1 (awareness) or 3 (query awareness), got {kind}")
    if reader.pos != len(frame) and kind != MessageType.QUERY_AWARENESS:
        # y-websocket sends exactly one message per frame.
        raise ProtocolError(f"{len(frame) - reader.pos} unexpected bytes after the message")
    return message


def awareness_entries(payload: bytes) -> list[tuple[int, int, str]]:
    """(client id, clock, JSON state) of each entry of an awareness update."""
    reader = _Reader(payload)
    count = reader.varuint()
    if count > len(payload):
        raise ProtocolError(f"awareness update declares {count} entries in {len(payload)} bytes")
    entries = [(reader.varuint(), reader.varuint(), reader.string()) for _ in range(count)]
    if reader.pos != len(payload):
        raise ProtocolError("unexpected bytes after the awareness entries")
    return entries


def encode_awareness_entries(entries: list[tuple[int, int, str]]) -> bytes:
    """The awareness update payload of (client id, clock, JSON state) entries."""
    out = [write_var_uint(len(entries))]
    for client_id, clock, state in entries:
        raw = state.encode("utf-8")
        out += [write_var_uint(client_id), write_var_uint(clock), write_var_uint(len(raw)), raw]
    return b"".join(out)


def parse_awareness(payload: bytes) -> tuple[tuple[int, int, str], ...]:
    """The entries of an awareness update whose states are JSON objects (or null); else ProtocolError."""
    entries = tuple(awareness_entries(payload))
    for client_id, _clock, state in entries:
        if state in ("", "null"):
            continue
        try:
            value = json.loads(state)
        except ValueError:
            raise ProtocolError(f"awareness state of client {client_id} is not JSON") from None
        if not isinstance(value, dict):
            raise ProtocolError(f"awareness state of client {client_id} is not a JSON object")
    return entries


def decode_state_vector(state_vector: bytes) -> dict[int, int]:
    """{client id: clock} of an encoded Yjs state vector."""
    reader = _Reader(state_vector)
    count = reader.varuint()
    if count > len(state_vector):
        raise ProtocolError(f"state vector declares {count} entries in {len(state_vector)} bytes")
    return {reader.varuint(): reader.varuint() for _ in range(count)}


def encode_sync_step1(state_vector: bytes) -> bytes:
    return create_sync_step1_message(state_vector)


def encode_sync_step2(update: bytes) -> bytes:
    return create_sync_step2_message(update)


def encode_update(update: bytes) -> bytes:
    return create_update_message(update)


def encode_awareness(payload: bytes) -> bytes:
    return create_awareness_message(payload)


def encode(message: Message) -> bytes:
    """The frame for a message (the inverse of `decode`)."""
    match message:
        case SyncStep1(state_vector):
            return encode_sync_step1(state_vector)
        case SyncStep2(update):
            return encode_sync_step2(update)
        case Update(update):
            return encode_update(update)
        case AwarenessUpdate(payload=payload):
            return encode_awareness(payload)
        case QueryAwareness():
            return bytes([MessageType.QUERY_AWARENESS])
    raise TypeError(f"expected a protocol message, got {type(message).__name__}")

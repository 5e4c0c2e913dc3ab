"""The y-websocket wire format, as lean as the generator needs it.

Frames: `varuint message_type` then, for sync (0), `varuint sync_type` and
`varbytes` payload. The generator also reads the *struct headers* of a Yjs
v1 update to learn which (client, clock) ranges it carries: that is how a
receiver tells which authors' edits a frame made visible without asking the
document (decoding the document's state vector on every frame is too slow at
200 editors). `update_ranges` returns None for anything it does not know, and
the caller falls back to diffing state vectors.

This is deliberately not `collab.protocol`: the benchmark must also drive the
Node peer without Django, and a server's validating codec costs the generator
CPU it cannot spare.
"""

SYNC = 0
AWARENESS = 1
STEP1 = 0
STEP2 = 1
UPDATE = 2


def varuint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_varuint(buf, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def sync_frame(sync_type: int, payload: bytes) -> bytes:
    return bytes((SYNC, sync_type)) + varuint(len(payload)) + payload


def update_frame(update: bytes) -> bytes:
    return sync_frame(UPDATE, update)


def step1_frame(state_vector: bytes) -> bytes:
    return sync_frame(STEP1, state_vector)


def step2_frame(update: bytes) -> bytes:
    return sync_frame(STEP2, update)


def parse_frame(frame: bytes) -> tuple[int, int, bytes]:
    """(message type, sync type or -1, payload) of one frame."""
    kind = frame[0]
    if kind == SYNC:
        length, pos = read_varuint(frame, 2)
        return SYNC, frame[1], frame[pos : pos + length]
    if kind == AWARENESS:
        length, pos = read_varuint(frame, 1)
        return AWARENESS, -1, frame[pos : pos + length]
    return kind, -1, b""


def decode_state_vector(sv: bytes) -> dict[int, int]:
    count, pos = read_varuint(sv, 0)
    out = {}
    for _ in range(count):
        client, pos = read_varuint(sv, pos)
        clock, pos = read_varuint(sv, pos)
        out[client] = clock
    return out


def encode_state_vector(sv: dict[int, int]) -> bytes:
    out = bytearray(varuint(len(sv)))
    for client, clock in sv.items():
        out += varuint(client)
        out += varuint(clock)
    return bytes(out)


# --- Yjs update v1 struct headers ------------------------------------------------

class _Unknown(Exception):
    pass


def _read_string(buf, pos):
    length, pos = read_varuint(buf, pos)
    return buf[pos : pos + length], pos + length


def _utf16_len(raw: bytes) -> int:
    if raw.isascii():
        return len(raw)
    text = raw.decode("utf-8", "surrogatepass")
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _skip_any(buf, pos):
    """Skip one lib0 `any` value."""
    tag = buf[pos]
    pos += 1
    if tag in (127, 126, 121, 120):  # undefined, null, false, true
        return pos
    if tag == 125:  # varint: continuation bit 0x80 on every byte
        while buf[pos] & 0x80:
            pos += 1
        return pos + 1
    if tag == 124:
        return pos + 4
    if tag in (123, 122):
        return pos + 8
    if tag in (119, 116):  # string, bytes
        _, pos = _read_string(buf, pos)
        return pos
    if tag == 118:  # object
        count, pos = read_varuint(buf, pos)
        for _ in range(count):
            _, pos = _read_string(buf, pos)
            pos = _skip_any(buf, pos)
        return pos
    if tag == 117:  # array
        count, pos = read_varuint(buf, pos)
        for _ in range(count):
            pos = _skip_any(buf, pos)
        return pos
    raise _Unknown(f"any tag {tag}")


def _content_length(buf, pos, ref):
    """(length in clock units, position after) of an item's content."""
    if ref == 4:  # string: length in UTF-16 code units
        raw, pos = _read_string(buf, pos)
        return _utf16_len(raw), pos
    if ref == 1:  # deleted
        return read_varuint(buf, pos)
    if ref == 7:  # type
        type_ref, pos = read_varuint(buf, pos)
        if type_ref in (3, 5):  # XmlElement, XmlHook carry a name
            _, pos = _read_string(buf, pos)
        return 1, pos
    if ref == 8:  # any
        count, pos = read_varuint(buf, pos)
        for _ in range(count):
            pos = _skip_any(buf, pos)
        return count, pos
    if ref == 6:  # format
        _, pos = _read_string(buf, pos)
        _, pos = _read_string(buf, pos)
        return 1, pos
    if ref in (3, 5):  # binary, embed
        _, pos = _read_string(buf, pos)
        return 1, pos
    if ref == 2:  # json
        count, pos = read_varuint(buf, pos)
        for _ in range(count):
            _, pos = _read_string(buf, pos)
        return count, pos
    if ref == 9:  # subdocument
        _, pos = _read_string(buf, pos)
        return 1, _skip_any(buf, pos)
    raise _Unknown(f"content ref {ref}")


def update_ranges(update: bytes) -> list[tuple[int, int, int]] | None:
    """[(client, first clock, end clock)] of the structs in a v1 update, or None if unreadable.

    A range with a Skip in it is split around the gap; GC structs count (they
    stand for content that was integrated, then deleted).
    """
    try:
        ranges = []
        groups, pos = read_varuint(update, 0)
        for _ in range(groups):
            count, pos = read_varuint(update, pos)
            client, pos = read_varuint(update, pos)
            clock, pos = read_varuint(update, pos)
            start = clock
            for _ in range(count):
                info = update[pos]
                pos += 1
                ref = info & 0x1F
                if ref == 0:  # GC
                    length, pos = read_varuint(update, pos)
                elif ref == 10:  # Skip: a gap, not content
                    length, pos = read_varuint(update, pos)
                    if clock > start:
                        ranges.append((client, start, clock))
                    clock += length
                    start = clock
                    continue
                else:
                    if info & 0x80:  # left origin
                        _, pos = read_varuint(update, pos)
                        _, pos = read_varuint(update, pos)
                    if info & 0x40:  # right origin
                        _, pos = read_varuint(update, pos)
                        _, pos = read_varuint(update, pos)
                    if not info & 0xC0:  # parent info follows
                        is_key, pos = read_varuint(update, pos)
                        if is_key == 1:
                            _, pos = _read_string(update, pos)
                        else:
                            _, pos = read_varuint(update, pos)
                            _, pos = read_varuint(update, pos)
                        if info & 0x20:
                            _, pos = _read_string(update, pos)
                    length, pos = _content_length(update, pos, ref)
                clock += length
            if clock > start:
                ranges.append((client, start, clock))
        return ranges
    except (_Unknown, IndexError, UnicodeDecodeError):
        return None

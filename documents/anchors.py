"""Comment anchors: Yjs relative positions into a document's text, read and made on the server.

A comment's anchor is two relative positions (base64 of Yjs's `encodeRelativePosition`, v1) into
the `default` XmlFragment, as the browser's y-prosemirror makes them. They name an *item* (one
character, by its Yjs id: client, clock) rather than an index, so they follow the text through
every edit. This module

- resolves them against a document's state: the text the anchor covers now (`quote`), where it is
  in document order (`position`, a character offset into `plain_text`), and whether the text is
  gone (both ends at the same place: "on deleted text");
- makes them for the n-th occurrence of a quote (REST clients anchor by quoting), so that the
  browser's `relativePositionToAbsolutePosition` resolves them to that text.

pycrdt has no item-level access to an XmlText (its StickyIndex works on Text and Array, panics on an
id it does not know, and counts some offsets in UTF-8 bytes, others in UTF-16 units), so both
directions go through a scratch copy of the document and Yjs's own integration rules:

- reading: for each position, a one-character *marker* item is integrated into the copy next to the
  anchored item (assoc < 0: `origin` = the item, client 0, so it lands just after it; assoc >= 0:
  `rightOrigin` = the item, the largest client id, so it lands just before it; a position on a whole
  type: `parent` = the type). Where the marker lands, counted in visible characters, is exactly what
  Yjs's `createAbsolutePositionFromRelativePosition` answers, deleted item or not. A marker is a
  private-use character absent from the document (an empty element for positions between blocks).
- making: deleting the character in the copy; the transaction's delete set names its id.

The plain text is the text of each text block (paragraph, heading, code block, list item's
paragraph) joined with "\\n": the same text a quote is matched against.
"""

import base64
from dataclasses import dataclass

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

FRAGMENT = "default"
# Marker clients: 0 sorts before every real client, MAX_CLIENT after (Yjs ids are 53-bit at most).
LOW_CLIENT = 0
MAX_CLIENT = 2**53 - 1
MARK_TAG = "coedit-anchor-mark"


class AnchorError(ValueError):
    """A position that is not a Yjs relative position."""


@dataclass(frozen=True)
class RelPos:
    kind: int  # 0: an item (client, clock); 1: the end or start of a root type (name); 2: of a type (its id)
    client: int = 0
    clock: int = 0
    name: str = ""
    assoc: int = 0


@dataclass(frozen=True)
class Resolved:
    quote: str  # the text covered now ("" when deleted)
    position: int | None  # the start, as an offset into plain_text(); None when deleted
    on_deleted_text: bool


# --- lib0 encoding (what Y.encodeRelativePosition writes) ---------------------------------------------


def _write_uint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _write_int(n: int) -> bytes:
    negative, n = n < 0, abs(n)
    out = bytearray([(0x80 if n > 0x3F else 0) | (0x40 if negative else 0) | (n & 0x3F)])
    n >>= 6
    while n:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
    return bytes(out)


def _write_string(s: str) -> bytes:
    data = s.encode("utf-8")
    return _write_uint(len(data)) + data


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def more(self) -> bool:
        return self.pos < len(self.data)

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise AnchorError("truncated")
        self.pos += 1
        return self.data[self.pos - 1]

    def uint(self) -> int:
        n = shift = 0
        while True:
            b = self.byte()
            n |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return n
            if shift > 63:
                raise AnchorError("number too long")

    def int(self) -> int:
        b = self.byte()
        n, negative, shift = b & 0x3F, b & 0x40, 6
        while b & 0x80:
            b = self.byte()
            n |= (b & 0x7F) << shift
            shift += 7
            if shift > 70:
                raise AnchorError("number too long")
        return -n if negative else n

    def string(self) -> str:
        length = self.uint()
        if self.pos + length > len(self.data):
            raise AnchorError("truncated")
        self.pos += length
        return self.data[self.pos - length:self.pos].decode("utf-8")


def decode(value: str) -> RelPos:
    """A base64 relative position (Yjs v1), or AnchorError."""
    try:
        data = base64.b64decode(value, validate=True)
    except ValueError:
        raise AnchorError("not base64") from None
    if not data or len(data) > 200:
        raise AnchorError("not a relative position")
    reader = _Reader(data)
    try:
        kind = reader.uint()
        if kind in (0, 2):
            client, clock = reader.uint(), reader.uint()
            found = dict(kind=kind, client=client, clock=clock)
        elif kind == 1:
            found = dict(kind=1, name=reader.string())
        else:
            raise AnchorError("not a relative position")
        assoc = reader.int() if reader.more() else 0
    except UnicodeDecodeError:
        raise AnchorError("not a relative position") from None
    if reader.more() or found.get("client", 0) > MAX_CLIENT or abs(assoc) > 2**31:
        raise AnchorError("not a relative position")
    return RelPos(assoc=assoc, **found)


def encode(pos: RelPos) -> str:
    if pos.kind == 1:
        data = _write_uint(1) + _write_string(pos.name)
    else:
        data = _write_uint(pos.kind) + _write_uint(pos.client) + _write_uint(pos.clock)
    return base64.b64encode(data + _write_int(pos.assoc)).decode("ascii")


def is_valid(value: str) -> bool:
    try:
        decode(value)
    except AnchorError:
        return False
    return True


# --- the document's text, in order ----------------------------------------------------------------------


@dataclass
class _Segment:
    start: int  # offset of its first character in the plain text
    text: str
    path: tuple  # child indices from the fragment to the XmlText


class _Text:
    """The plain text of a fragment, with where each XmlText is, and where markers sit."""

    def __init__(self, fragment: XmlFragment):
        self.parts: list[str] = []
        self.length = 0
        self.segments: list[_Segment] = []
        self.found: dict = {}  # key -> (offset, path of the container, index of the segment or None)
        self.spans: dict = {}  # path of an element -> (start, end) of its text
        self.separators: set[int] = set()  # offsets of the "\n" between blocks
        self._blocks = 0
        self._walk(fragment, (), False)
        self.text = "".join(self.parts)

    def _add(self, s: str):
        self.parts.append(s)
        self.length += len(s)

    def _walk(self, node, path: tuple, in_block: bool):
        start = self.length
        children = list(node.children)
        real = [c for c in children if not (isinstance(c, XmlElement) and (c.tag or "").startswith(MARK_TAG))]
        block = not in_block and path != () and (not real or any(isinstance(c, XmlText) for c in real))
        if block:
            if self._blocks:
                self.separators.add(self.length)
                self._add("\n")
            self._blocks += 1
            start = self.length
        index = 0  # among the children the document has (markers are not counted: paths are the original's)
        for child in children:
            if isinstance(child, XmlElement) and (child.tag or "").startswith(MARK_TAG):
                self.found[child.tag[len(MARK_TAG):]] = (self.length, path, None)
                continue
            where = path + (index,)
            index += 1
            if isinstance(child, XmlText):
                self._text(child, where, path)
            elif isinstance(child, XmlElement):
                self._walk(child, where, in_block or block)
        self.spans[path] = (start, self.length)

    def _text(self, node: XmlText, where: tuple, parent: tuple):
        start, kept = self.length, []
        for insert, _attrs in node.diff():
            if isinstance(insert, str):
                kept.append(insert)
            elif isinstance(insert, XmlElement) and (insert.tag or "").startswith(MARK_TAG):
                self.found[insert.tag[len(MARK_TAG):]] = (start + sum(map(len, kept)), parent, len(self.segments))
            else:
                kept.append("\ufffc")  # an embed: one position
        raw = "".join(kept)
        self.segments.append(_Segment(start, raw, where))
        self._add(raw)


def _fragment(doc: Doc) -> XmlFragment:
    return doc.get(FRAGMENT, type=XmlFragment)


def _doc(state: bytes) -> Doc:
    doc = Doc()
    if state:
        doc.apply_update(state)
    return doc


def plain_text(state: bytes) -> str:
    return _Text(_fragment(_doc(state))).text


# --- reading anchors ----------------------------------------------------------------------------------------


def _marker_update(structs: list[tuple[int, bytes]], clocks: dict) -> bytes:
    """A Yjs v1 update of one-character items: [(client, info+origins+content)], each at its client's
    next clock."""
    by_client: dict[int, list[bytes]] = {}
    for client, body in structs:
        by_client.setdefault(client, []).append(body)
    out = bytearray(_write_uint(len(by_client)))
    for client, bodies in sorted(by_client.items(), reverse=True):  # as Yjs writes them: higher clients first
        out += _write_uint(len(bodies)) + _write_uint(client) + _write_uint(clocks.get(client, 0))
        for body in bodies:
            out += body
    out += _write_uint(0)  # no deletions
    return bytes(out)


def _state_clocks(doc: Doc) -> dict:
    """{client: next clock} of the document (from its state vector)."""
    reader = _Reader(doc.get_state())
    return {reader.uint(): reader.uint() for _ in range(reader.uint())}


def _marker_body(pos: RelPos, content: bytes) -> tuple[int, bytes]:
    """(client, struct) of a marker that lands where `pos` resolves (see the module's docstring)."""
    ref = content[0]
    if pos.kind == 0 and pos.assoc < 0:
        return LOW_CLIENT, bytes([0x80 | ref]) + _write_uint(pos.client) + _write_uint(pos.clock) + content[1:]
    if pos.kind == 0:
        return MAX_CLIENT, bytes([0x40 | ref]) + _write_uint(pos.client) + _write_uint(pos.clock) + content[1:]
    # On a type (kind 2): anywhere inside it; where is decided by assoc (its start or end).
    return MAX_CLIENT, bytes([ref]) + _write_uint(0) + _write_uint(pos.client) + _write_uint(pos.clock) + content[1:]


def _element_content(key: str) -> bytes:
    return bytes([7]) + _write_uint(3) + _write_string(MARK_TAG + key)  # ContentType, YXmlElement


def _locate(state: bytes, original: _Text, positions: dict) -> dict:
    """{key: offset in original.text or None} of each RelPos in `positions` {key (str): RelPos} (kinds 0, 2)."""
    results: dict = {key: None for key in positions}
    if not positions:
        return results
    doc = _doc(state)
    clocks = _state_clocks(doc)
    if LOW_CLIENT in clocks or any(c >= MAX_CLIENT for c in clocks):
        return results  # ids the markers need are taken: improbable; the anchors read as deleted
    # One update per marker, each at its client's next clock. A marker is an empty element: in an
    # XmlText it is an embed (pycrdt lists it in diff()), in a list of blocks a child; a string would be
    # lost there (pycrdt stops listing an element's children when one of them is a string).
    for key, pos in positions.items():
        client, body = _marker_body(pos, _element_content(key))
        try:
            doc.apply_update(_marker_update([(client, body)], clocks))
        except Exception:
            continue
        clocks[client] = clocks.get(client, 0) + 1
    found = _Text(_fragment(doc))
    for key, pos in positions.items():
        where = found.found.get(key)
        if where is None:
            continue  # in a deleted block, or on an item the document does not have
        offset, container, segment = where
        if pos.kind == 2:
            if segment is not None:
                seg = original.segments[segment]
                offset = seg.start + (len(seg.text) if pos.assoc >= 0 else 0)
            else:
                start, end = original.spans.get(container, (offset, offset))
                offset = end if pos.assoc >= 0 else start
        results[key] = offset
    return results


def resolve_many(state: bytes, anchors: list[tuple[str, str]]) -> list[Resolved]:
    """Resolve each (start, end) pair against the document's state (one scratch copy for all)."""
    original = _Text(_fragment(_doc(state)))
    text = original.text
    decoded: list[tuple[RelPos | None, RelPos | None]] = []
    wanted: dict = {}
    for index, (start, end) in enumerate(anchors):
        pair = []
        for side, value in (("s", start), ("e", end)):
            try:
                pos = decode(value)
            except AnchorError:
                pos = None
            pair.append(pos)
            if pos is not None and pos.kind != 1:
                wanted[f"{index}{side}"] = pos
        decoded.append(tuple(pair))
    located = _locate(state, original, wanted)
    results = []
    for index, (start, end) in enumerate(decoded):
        ends = []
        for side, pos in (("s", start), ("e", end)):
            if pos is None:
                ends.append(None)
            elif pos.kind == 1:
                ends.append(len(text) if pos.assoc >= 0 else 0 if pos.name == FRAGMENT else None)
            else:
                ends.append(located.get(f"{index}{side}"))
        a, b = ends
        # A position between two blocks (on an element rather than a character) may fall either side of
        # the break: a range neither starts nor ends with one.
        while a is not None and b is not None and a < b and a in original.separators:
            a += 1
        while a is not None and b is not None and b > a and b - 1 in original.separators:
            b -= 1
        if a is None or b is None or b <= a:
            results.append(Resolved(quote="", position=None, on_deleted_text=True))
        else:
            results.append(Resolved(quote=text[a:b], position=a, on_deleted_text=False))
    return results


def resolve(state: bytes, start: str, end: str) -> Resolved:
    return resolve_many(state, [(start, end)])[0]


# --- making anchors -------------------------------------------------------------------------------------------


class QuoteNotFound(LookupError):
    def __init__(self, found: int):
        super().__init__(found)
        self.found = found  # how many occurrences there are


def find(text: str, quote: str, occurrence: int) -> int:
    """Offset of the `occurrence`-th (1-based) occurrence of `quote` in `text` (occurrences may overlap)."""
    at, seen = -1, 0
    while True:
        at = text.find(quote, at + 1)
        if at < 0:
            raise QuoteNotFound(seen)
        seen += 1
        if seen == occurrence:
            return at


def _item_at(doc: Doc, segment: _Segment, index: int) -> tuple[int, int, int]:
    """(client, clock, UTF-16 length) of the character at `index` of the segment's XmlText, read from
    the delete set of a transaction that deletes it in `doc` (a scratch copy)."""
    node = _fragment(doc)
    for step in segment.path:
        node = node.children[step]
    before = len(segment.text[:index].encode("utf-8"))
    size = len(segment.text[index].encode("utf-8"))
    updates = []
    subscription = doc.observe(lambda event: updates.append(event.update))
    try:
        with doc.transaction() as txn:
            node.integrated.remove_range(txn._txn, before, size)
    finally:
        doc.unobserve(subscription)
    reader = _Reader(updates[-1])
    if reader.uint() != 0:
        raise AnchorError("a deletion made items")
    if reader.uint() != 1:
        raise AnchorError("unexpected delete set")
    client = reader.uint()
    if reader.uint() != 1:
        raise AnchorError("unexpected delete set")
    return client, reader.uint(), reader.uint()


def make(state: bytes, quote: str, occurrence: int = 1) -> tuple[str, str, str]:
    """(start, end, quote) anchoring the `occurrence`-th occurrence of `quote`: start on its first
    character (assoc 0), end on its last one (assoc -1), as Y.createRelativePositionFromTypeIndex
    makes them. Raises QuoteNotFound."""
    original = _Text(_fragment(_doc(state)))
    text = original.text
    at = find(text, quote, occurrence)
    stop = at + len(quote)
    # Characters of the quote that belong to an XmlText (not a block separator): the first and the last.
    chars = [(seg, i - seg.start) for seg in original.segments
             for i in range(max(at, seg.start), min(stop, seg.start + len(seg.text)))][:1]
    last = [(seg, i - seg.start) for seg in reversed(original.segments)
            for i in range(min(stop, seg.start + len(seg.text)) - 1, max(at, seg.start) - 1, -1)][:1]
    if not chars or not last:
        raise QuoteNotFound(0)  # only block breaks: nothing to anchor to
    seg, index = chars[0]
    client, clock, _ = _item_at(_doc(state), seg, index)
    start = RelPos(kind=0, client=client, clock=clock, assoc=0)
    seg, index = last[0]
    client, clock, length = _item_at(_doc(state), seg, index)
    end = RelPos(kind=0, client=client, clock=clock + length - 1, assoc=-1)
    return encode(start), encode(end), quote

"""Refuse Yjs updates carrying JSON values nested too deep to be read safely.

pycrdt's Rust core (yrs) decodes and converts a JSON value (an attribute, a
map entry, an embed) recursively, one native stack frame per level. At two
bytes per level, an update within the document size limit could nest a value
millions of levels deep: far beyond any stack, so reading it (applying it, an
export reading the attribute) would segfault the whole server. editor/serve.py
gives every thread a stack for deeply nested *types* (XML elements, arrays:
6 bytes or more per level, built up over many updates); JSON values are
self-contained in one update, so they are bounded here, before the Doc sees
them. No editor makes a value nested more than a few levels (ProseMirror
attributes are flat), and MAX_DEPTH also keeps them within Python's own
recursion limit and the browser's stack.

`check(update)` walks the update's structs (Yjs update format v1, as
y-websocket sends it) without recursion. It raises TooDeep, or ProtocolError
when the structs cannot be read; it only reads what a value could hide in, and
leaves every other judgement to the Doc.
"""

from collab import protocol
from collab.protocol import ProtocolError

MAX_DEPTH = 100

# lib0 `Any` tags (lib0/encoding.js writeAny).
_UNDEFINED, _NULL, _INTEGER, _FLOAT32, _FLOAT64, _BIGINT, _FALSE, _TRUE, _STRING, _OBJECT, _ARRAY, _BYTES = (
    127, 126, 125, 124, 123, 122, 121, 120, 119, 118, 117, 116)
_FIXED = {_UNDEFINED: 0, _NULL: 0, _FALSE: 0, _TRUE: 0, _FLOAT32: 4, _FLOAT64: 8, _BIGINT: 8}
# Item content kinds (info & 0x1f) and type refs that carry a name.
_GC, _DELETED, _JSON, _BINARY, _STRING_CONTENT, _EMBED, _FORMAT, _TYPE, _ANY, _DOC, _SKIP = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
_XML_ELEMENT, _XML_HOOK = 3, 5


class TooDeep(ValueError):
    """An update carrying a value nested deeper than MAX_DEPTH."""


def could_be_deep(update: bytes) -> bool:
    """A fast filter: every level of an `Any` array or object starts with its tag byte, and of JSON with [ or {."""
    return update.count(b"\x75") + update.count(b"\x76") + update.count(b"[") + update.count(b"{") > MAX_DEPTH


def check(update: bytes) -> None:
    if could_be_deep(update):
        _Reader(update).update()


class _Reader(protocol._Reader):
    """The codec's bounds-checked reader, with the one-byte varuint fast path this walk needs."""

    def byte(self) -> int:
        pos = self.pos
        if pos >= len(self.data):
            raise ProtocolError("update ends early")
        self.pos = pos + 1
        return self.data[pos]

    def uint(self) -> int:
        # Most are one byte: read those without a loop (this walk is the hot path).
        pos = self.pos
        if pos < len(self.data) and self.data[pos] < 0x80:
            self.pos = pos + 1
            return self.data[pos]
        return self.varuint()

    def skip(self, n: int) -> None:
        if self.pos + n > len(self.data):
            raise ProtocolError("update ends early")
        self.pos += n

    def string(self) -> str:
        n = self.uint()
        start = self.pos
        self.skip(n)
        return self.data[start : self.pos].decode("utf-8", "replace")

    def update(self) -> None:
        for _client in range(self.uint()):
            structs = self.uint()
            self.uint(), self.uint()  # client, first clock
            for _ in range(structs):
                self.struct()
        # The delete set that follows holds only ids and lengths.

    def struct(self) -> None:
        info = self.byte()
        kind = info & 0x1F
        if kind in (_GC, _SKIP):
            self.uint()
            return
        if info & 0x80:
            self.uint(), self.uint()  # origin
        if info & 0x40:
            self.uint(), self.uint()  # right origin
        if not info & 0xC0:
            if self.uint() == 1:
                self.string()  # a root type's name
            else:
                self.uint(), self.uint()  # parent id
            if info & 0x20:
                self.string()  # key in a map
        if kind == _DELETED:
            self.uint()
        elif kind == _JSON:
            for _ in range(self.uint()):
                _check_json(self.string())
        elif kind in (_BINARY, _STRING_CONTENT):
            self.skip(self.uint())
        elif kind == _EMBED:
            _check_json(self.string())
        elif kind == _FORMAT:
            self.string()
            _check_json(self.string())
        elif kind == _TYPE:
            if self.uint() in (_XML_ELEMENT, _XML_HOOK):
                self.string()
        elif kind == _ANY:
            for _ in range(self.uint()):
                self.any()
        elif kind == _DOC:
            self.string()
            self.any()
        else:
            raise ProtocolError(f"unknown content kind {kind}")

    def any(self) -> None:
        """Skip one `Any` value, without recursion; TooDeep past MAX_DEPTH levels."""
        # Per open array or object: [values left, whether each has a key first].
        open_ = [[1, False]]
        while open_:
            top = open_[-1]
            if not top[0]:
                open_.pop()
                continue
            top[0] -= 1
            if top[1]:
                self.string()
            tag = self.byte()
            if tag in _FIXED:
                self.skip(_FIXED[tag])
            elif tag == _INTEGER:
                while self.byte() & 0x80:
                    pass
            elif tag in (_STRING, _BYTES):
                self.skip(self.uint())
            elif tag in (_ARRAY, _OBJECT):
                open_.append([self.uint(), tag == _OBJECT])
                if len(open_) > MAX_DEPTH:
                    raise TooDeep(f"a value nested over {MAX_DEPTH} levels")
            else:
                raise ProtocolError(f"unknown value tag {tag}")


def _check_json(text: str) -> None:
    """TooDeep for JSON text nested over MAX_DEPTH (brackets outside strings)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise TooDeep(f"a value nested over {MAX_DEPTH} levels")
        elif char in "]}":
            depth -= 1

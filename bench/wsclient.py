"""A minimal RFC 6455 client on asyncio.Protocol: the generator's per-frame cost.

The `websockets` library spends a task wake-up and a few layers per frame;
with hundreds of receivers on one core that is most of the generator's CPU.
This client parses frames in `data_received` and calls `on_frame(payload)`
synchronously. It does what a y-websocket peer needs: binary frames,
fragmentation, ping/pong, close. No extensions (no compression) are offered,
so both servers send plain frames.
"""

import asyncio
import base64
import hashlib
import os

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class HandshakeError(ConnectionError):
    pass


def _client_header(opcode: int, length: int) -> bytes:
    # FIN + opcode; MASK bit set with an all-zero masking key: the payload is
    # then sent as is. Servers unmask every frame the same way whatever the
    # key, so this costs them nothing extra and saves the generator the XOR.
    if length < 126:
        return bytes((0x80 | opcode, 0x80 | length, 0, 0, 0, 0))
    if length < 65536:
        return bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big") + b"\0\0\0\0"
    return bytes((0x80 | opcode, 0x80 | 127)) + length.to_bytes(8, "big") + b"\0\0\0\0"


class WSClient(asyncio.Protocol):
    def __init__(self, on_frame, on_close=None):
        self.on_frame = on_frame  # called with each complete binary message
        self.on_close = on_close  # called once with (code, reason)
        self.transport = None
        self.close_code = None
        self.close_reason = ""
        self.bytes_in = 0
        self.frames_in = 0
        self._buf = bytearray()
        self._handshaken = False
        self._ready: asyncio.Future | None = None
        self._closed = asyncio.get_event_loop().create_future()
        self._fragments: list[bytes] = []
        self._key = b""

    async def open(self, host: str, port: int, path: str, headers: dict, timeout: float = 30.0) -> "WSClient":
        """Connect and handshake. Frames may arrive (and reach on_frame) before this returns."""
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        await asyncio.wait_for(loop.create_connection(lambda: self, host, port), timeout)
        self._key = base64.b64encode(os.urandom(16))
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {self._key.decode()}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin1"))
        await asyncio.wait_for(self._ready, timeout)
        return self

    # --- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes):
        self.bytes_in += len(data)
        buf = self._buf
        buf += data
        if not self._handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin1")
            del buf[: end + 4]
            status = head.split("\r\n", 1)[0]
            expected = base64.b64encode(hashlib.sha1(self._key + _GUID).digest()).decode()
            if " 101 " not in status + " " or expected not in head:
                self._ready.set_exception(HandshakeError(f"handshake refused: {status!r}"))
                self.transport.close()
                return
            self._handshaken = True
            self._ready.set_result(None)
        self._parse()

    def _parse(self):
        buf = self._buf
        pos = 0
        n = len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            if b1 & 0x80:
                raise ConnectionError("server sent a masked frame")
            if n - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            opcode = b0 & 0x0F
            fin = b0 & 0x80
            if opcode == OP_BINARY or opcode == OP_TEXT or opcode == OP_CONT:
                if not fin:
                    self._fragments.append(payload)
                    continue
                if self._fragments:
                    self._fragments.append(payload)
                    payload = b"".join(self._fragments)
                    self._fragments = []
                self.frames_in += 1
                self.on_frame(payload)
            elif opcode == OP_PING:
                self._send(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self._remote_close(code, payload[2:].decode("utf-8", "replace"))
                break
        del buf[:pos]

    def connection_lost(self, exc):
        if not self._handshaken and self._ready is not None and not self._ready.done():
            self._ready.set_exception(HandshakeError(f"connection lost during handshake: {exc!r}"))
        self._remote_close(self.close_code or 1006, self.close_reason)
        if not self._closed.done():
            self._closed.set_result(None)

    # --- sending -------------------------------------------------------------------

    def _send(self, opcode: int, payload: bytes):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_client_header(opcode, len(payload)) + payload)

    def send(self, payload: bytes):
        """Send one binary message (returns at once; asyncio buffers)."""
        self._send(OP_BINARY, payload)

    def _remote_close(self, code: int, reason: str):
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason
            if self.on_close is not None:
                self.on_close(code, reason)
        if self.transport is not None and not self.transport.is_closing():
            self._send(OP_CLOSE, code.to_bytes(2, "big") if code < 5000 and code not in (1005, 1006) else b"")
            self.transport.close()

    async def close(self, code: int = 1000, timeout: float = 5.0):
        if self.transport is None:
            return
        if not self.transport.is_closing():
            self._send(OP_CLOSE, code.to_bytes(2, "big"))
            try:
                await asyncio.wait_for(asyncio.shield(self._closed), timeout)
            except asyncio.TimeoutError:
                pass
            self.transport.close()
        await asyncio.shield(self._closed)

    @property
    def is_open(self) -> bool:
        return self._handshaken and self.close_code is None

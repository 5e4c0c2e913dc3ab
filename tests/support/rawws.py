"""WebSocket clients that misbehave at the socket level (for send-path and memory tests)."""

import socket
from urllib.parse import urlsplit

import websockets

from collab import protocol

# A client's close frame with code 1000 (masked, as a client must, with a zero mask).
CLOSE_1000 = b"\x88\x82\x00\x00\x00\x00\x03\xe8"


async def never_reading(url: str, token: str):
    """A WebSocket that joins the document (sends sync step 1) and then never reads its socket.

    Its kernel receive buffer is kept small, so what the server sends to it
    stays on the server. `ws.transport.resume_reading()` lets it read again.
    """
    parts = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.connect((parts.hostname, parts.port))
    ws = await websockets.connect(url, sock=sock, additional_headers={"Authorization": f"Bearer {token}"},
                                  max_queue=1, ping_interval=None)
    await ws.send(protocol.encode_sync_step1(b"\x00"))
    ws.transport.pause_reading()
    return ws


async def read_until_closed(ws) -> None:
    """Let a never_reading socket read again, discarding what it gets, until the server closes it."""
    ws.transport.resume_reading()
    try:
        async for _ in ws:
            pass
    except websockets.ConnectionClosed:
        pass

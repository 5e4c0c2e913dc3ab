"""Preparing documents over the wire, and the fresh clients that check and time a sync."""

import asyncio
import hashlib
import time

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from . import wire
from .clients import Editor, Recorder


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def _round_trip(editor: Editor, timeout: float) -> None:
    """Wait until the server has handled everything sent before (its answer to a step 1 comes after)."""
    editor.synced.clear()
    editor.ws.send(wire.step1_frame(editor.doc.get_state()))
    await asyncio.wait_for(editor.synced.wait(), timeout)


def _seed_update(update: bytes | None) -> bytes:
    if update is not None:
        return update
    doc = Doc(client_id=1)
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        fragment.children.append(XmlElement("paragraph", contents=[XmlText()]))
    return doc.get_update()


def seed_state_vector(update: bytes | None = None) -> dict[int, int]:
    """What a document seeded by seed_documents holds: its state vector (Yjs client id -> clocks)."""
    doc = Doc()
    doc.apply_update(_seed_update(update))
    return wire.decode_state_vector(doc.get_state())


async def seed_documents(host, port, targets, update: bytes | None = None, concurrency=32, timeout=60.0):
    """Give each document its initial content (an empty paragraph, or `update`) through a client.

    targets: (path, headers) of each document.
    """
    content = _seed_update(update)
    slots = asyncio.Semaphore(concurrency)

    async def one(path, headers):
        async with slots:
            editor = Editor(0, 1, path, Recorder(0, {}), seed=0)
            editor.doc.apply_update(content)
            await editor.connect(host, port, headers)
            await asyncio.wait_for(editor.synced.wait(), timeout)
            # Our sync step 2 answering the server's step 1 carries the content; a
            # second round trip makes sure the server applied it before we leave.
            await _round_trip(editor, timeout)
            await editor.close()

    await asyncio.gather(*(one(p, h) for p, h in targets))


async def fresh_sync(host, port, headers, path, timeout=60.0) -> dict:
    """Join as a new client; time to connect, to receive the full state, to have it applied."""
    t0 = time.monotonic()
    editor = Editor(0, 2, path, Recorder(0, {}), seed=0)
    received = {}
    original = editor.on_frame

    def on_frame(frame):
        if frame[:2] == b"\x00\x01" and "step2" not in received:
            received["step2"] = time.monotonic()
        original(frame)

    editor.on_frame = on_frame
    await editor.connect(host, port, headers)
    t_open = time.monotonic()
    await asyncio.wait_for(editor.synced.wait(), timeout)
    t_synced = time.monotonic()
    text, _ = editor.final_state()
    result = {
        "open_s": t_open - t0, "step2_s": received["step2"] - t0, "synced_s": t_synced - t0,
        "bytes_in": editor.ws.bytes_in, "step2_bytes": editor.step2_bytes,
        "text_hash": text_hash(text), "length": len(text),
    }
    await editor.close()
    return result


async def document_hashes(host, port, targets, concurrency=32) -> dict[str, dict]:
    """What a fresh client of each document receives; targets: (path, headers)."""
    slots = asyncio.Semaphore(concurrency)

    async def one(path, headers):
        async with slots:
            for attempt in range(5):
                try:
                    return path, await fresh_sync(host, port, headers, path)
                except OSError as exc:  # a server busy closing the editors' connections may reset one
                    error = exc
                    await asyncio.sleep(0.5 * (attempt + 1))
            raise error

    return dict(await asyncio.gather(*(one(p, h) for p, h in targets)))

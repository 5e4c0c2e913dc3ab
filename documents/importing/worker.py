"""Imports run in a process of their own, off the server's event loop and its GIL.

Parsing is pure Python (markdown-it, the HTML parser, mammoth) and writing
the Yjs document holds the GIL in pycrdt's calls: in a thread of the server
process a 1 MB Markdown file stalled the event loop, where every open
document's actor runs, for up to 1.5 s at a time (p99 0.5 s; measured). A
single worker process (spawned, so that it shares no threads or sockets with
the server) does the whole conversion and hands back the encoded state and
the notes. It needs no Django: the import limit is passed in.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def convert(data: bytes | str, format_name: str, max_bytes: int) -> tuple[bytes, list[str]]:
    """In the worker: (the Yjs state, the notes) of `data`; ImportRefused as `parse` raises it."""
    from . import parse, prosemirror_to_state

    imported = parse(data, format_name, max_bytes=max_bytes)
    return prosemirror_to_state(imported.content), imported.notes


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return _pool


async def aconvert(data: bytes | str, format_name: str, max_bytes: int) -> tuple[bytes, list[str]]:
    """`convert` in the worker process; a worker that died is replaced once and the import retried."""
    global _pool
    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        pool = _executor()
        try:
            return await loop.run_in_executor(pool, convert, data, format_name, max_bytes)
        except BrokenProcessPool:
            with _lock:
                if _pool is pool:
                    _pool = None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")

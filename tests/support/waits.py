"""Waiting for state that offers nothing to await (another process's reports, a store's counters)."""

import asyncio
import inspect
import time


async def first_of(*events: asyncio.Event) -> None:
    """Return as soon as any of `events` is set (the waits on the others are cancelled)."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def wait_until(predicate, timeout: float = 15.0, what: str = "condition", step: float = 0.1,
                     blocking: bool = False):
    """Poll `predicate()` every `step` seconds until it returns something true, and return that;
    AssertionError naming `what` after `timeout`. `blocking`: the predicate blocks (a request to a
    server's stats endpoint, say), so it runs in a thread and the event loop goes on meanwhile.
    A coroutine function may be the predicate: its result is awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(predicate) if blocking else predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(step)

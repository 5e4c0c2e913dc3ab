"""Waiting for state that offers nothing to await (another process's reports, a store's counters)."""

import asyncio
import time


async def wait_until(predicate, timeout: float = 15.0, what: str = "condition", step: float = 0.1,
                     blocking: bool = False):
    """Poll `predicate()` every `step` seconds until it returns something true, and return that;
    AssertionError naming `what` after `timeout`. `blocking`: the predicate blocks (a request to a
    server's stats endpoint, say), so it runs in a thread and the event loop goes on meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(predicate) if blocking else predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(step)

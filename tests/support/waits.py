"""Waiting for state that offers nothing to await (another process's reports, a store's counters)."""

import asyncio
import time


async def wait_until(predicate, timeout: float = 15.0, what: str = "condition", step: float = 0.1) -> None:
    """Poll `predicate()` every `step` seconds until it holds; AssertionError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(step)

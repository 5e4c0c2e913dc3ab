"""Real y-websocket clients (collab.client.YClient) on a live server: opening them synced,
waiting for them to agree, waiting for the server to close them.

    async with synced(YClient(url, token=a), YClient(url, token=b)) as (writer, reader):
        ...                                   # both connected and past sync step 2; closed after

    async def test_x(synced_client):          # the fixture, for clients that live as long as the test
        watcher = await synced_client(url, token=token)
"""

import asyncio
import contextlib
import time

import pytest

from collab import protocol
from collab.client import YClient
from tests.support.waits import first_of


async def open_synced(*clients: YClient, timeout: float = 30.0) -> None:
    """Connect every client and wait until each has received the server's sync step 2."""
    for client in clients:
        await client.connect()
    await asyncio.wait_for(asyncio.gather(*(c.synced.wait() for c in clients)), timeout)


@contextlib.asynccontextmanager
async def synced(*clients: YClient, timeout: float = 30.0):
    """`open_synced` for the length of a block: yields the client (one) or the tuple (several); closes them after."""
    try:
        await open_synced(*clients, timeout=timeout)
        yield clients[0] if len(clients) == 1 else clients
    finally:
        await asyncio.gather(*(c.close() for c in clients))


@pytest.fixture
async def synced_client():
    """A factory of synced clients (YClient's arguments, plus `timeout`), all closed when the test ends."""
    opened: list[YClient] = []

    async def open_one(url: str, *, timeout: float = 30.0, **kwargs) -> YClient:
        client = YClient(url, **kwargs)
        opened.append(client)
        await open_synced(client, timeout=timeout)
        return client

    yield open_one
    await asyncio.gather(*(c.close() for c in opened))


def same_state(*clients: YClient) -> bool:
    """Every client has seen every insertion (equal state vectors) and every deletion (equal content).

    Both: a deletion does not advance a state vector, and equal content alone may be a coincidence.
    """
    vectors = [protocol.decode_state_vector(c.doc.get_state()) for c in clients]
    return all(v == vectors[0] for v in vectors) and len({str(c.fragment) for c in clients}) == 1


async def converge(clients: list[YClient], timeout: float = 30.0, reconnect: bool = False) -> str:
    """Wait until every client holds the same document; returns its XML.

    With `reconnect`, a client the server dropped meanwhile (a killed or restarted process)
    reconnects and resyncs, as y-websocket's provider does, until `timeout`.
    """
    deadline = time.monotonic() + timeout
    left = lambda: max(1.0, deadline - time.monotonic())  # noqa: E731
    while True:
        try:
            if reconnect:
                for client in clients:
                    if client.closed.is_set():
                        await client.reconnect(timeout=left())
            await _agreed(clients, left())
            return str(clients[0].fragment)
        except ConnectionError:
            if not reconnect or time.monotonic() > deadline:
                raise


async def _agreed(clients: list[YClient], timeout: float) -> None:
    """Until `same_state`: a client re-checks on each frame it receives, and the frame that makes
    them agree reaches one of them, so the first waiter to return is enough."""
    waiters = [asyncio.ensure_future(c.wait_for(lambda _c: same_state(*clients), timeout)) for c in clients]
    try:
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in done:
            waiter.result()  # a close (ConnectionError) or the timeout
    finally:
        for waiter in waiters:
            waiter.cancel()


async def closed_with(client: YClient, timeout: float = 10.0, since: float | None = None) -> int:
    """The code the server closes `client` with; fails if it is still open `timeout` seconds after
    `since` (a time.monotonic() value; default now)."""
    since = time.monotonic() if since is None else since
    try:
        await asyncio.wait_for(client.closed.wait(), max(0.0, timeout - (time.monotonic() - since)))
    except TimeoutError:
        pytest.fail(f"the socket was still open {timeout}s after it should have been closed")
    return client.close_code


async def keep_connected(client: YClient, stop: asyncio.Event, timeout: float = 60.0,
                         gaps: list[float] | None = None) -> None:
    """Until `stop`, reconnect `client` at once whenever it is closed, as y-websocket's provider does;
    returns once stopped and connected. `gaps` gets each cut-off: from the close seen to synced again."""
    while True:
        await first_of(client.closed, stop)
        if not client.closed.is_set():
            return  # stopped, and connected
        cut_off = time.monotonic()
        await client.reconnect(timeout=timeout)
        if gaps is not None:
            gaps.append(time.monotonic() - cut_off)

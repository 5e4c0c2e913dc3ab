"""A y-websocket client on pycrdt, for scripts, tests and the benchmark.

    async with YClient(url, token=token) as client:
        await client.synced.wait()
        with client.doc.transaction():
            client.fragment.children.append(XmlElement("paragraph", contents=[XmlText("hi")]))
        await client.wait_for(lambda c: ...)

Local changes to `doc` are sent as updates; remote ones are applied with the
origin "remote". Awareness is kept in `awareness`.
"""

import asyncio
import base64
import contextlib

import websockets
from websockets.exceptions import InvalidStatus
from pycrdt import Awareness, Doc, XmlFragment

from . import protocol

REMOTE = "remote"


class YClient:
    def __init__(self, url: str, *, token: str | None = None, cookies: str | None = None, origin: str | None = None):
        self.url = url
        self.headers = {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if cookies:
            self.headers["Cookie"] = cookies
        self.origin = origin
        self.doc = Doc()
        self.fragment = self.doc.get("default", type=XmlFragment)
        self.awareness = Awareness(self.doc)
        self.synced = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""
        self.frames_received = 0
        self._changed = asyncio.Condition()
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._subscription = None
        self._applying = False

    async def __aenter__(self):
        await self.connect()
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def connect(self) -> None:
        self._ws = await websockets.connect(
            self.url, additional_headers=self.headers, origin=self.origin, max_size=None, ping_interval=None
        )
        self._subscription = self.doc.observe(self._on_local_update)
        self._reader = asyncio.create_task(self._read())
        await self.send(protocol.encode_sync_step1(self.doc.get_state()))

    async def send(self, frame: bytes) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await self._ws.send(frame)

    def _on_local_update(self, event) -> None:
        if self._applying:  # a remote update being applied: the server has it
            return
        frame = protocol.encode_update(event.update)
        asyncio.get_running_loop().create_task(self.send(frame))

    def apply_remote(self, update: bytes) -> None:
        self._applying = True
        try:
            with self.doc.transaction(origin=REMOTE):
                self.doc.apply_update(update)
        finally:
            self._applying = False

    async def _read(self) -> None:
        try:
            async for frame in self._ws:
                self.frames_received += 1
                message = protocol.decode(frame)
                match message:
                    case protocol.SyncStep1(state_vector):
                        await self.send(protocol.encode_sync_step2(self.doc.get_update(state_vector)))
                    case protocol.SyncStep2(update):
                        self.apply_remote(update)
                        self.synced.set()
                    case protocol.Update(update):
                        self.apply_remote(update)
                    case protocol.AwarenessUpdate(payload):
                        self.awareness.apply_awareness_update(payload, REMOTE)
                async with self._changed:
                    self._changed.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self._ws.close_code
            self.close_reason = self._ws.close_reason or ""
            self.closed.set()
            async with self._changed:
                self._changed.notify_all()

    async def wait_for(self, predicate, timeout: float = 10.0):
        """Wait until predicate(self) is true, re-checking after each received frame."""
        async def waiter():
            async with self._changed:
                while not predicate(self):
                    if self.closed.is_set():
                        raise ConnectionError(f"closed with {self.close_code} while waiting")
                    await self._changed.wait()
        await asyncio.wait_for(waiter(), timeout)

    async def set_presence(self, state: dict) -> None:
        self.awareness.set_local_state(state)
        payload = self.awareness.encode_awareness_update([self.awareness.client_id])
        await self.send(protocol.encode_awareness(payload))

    def server_state(self) -> dict | None:
        """The server's own awareness entry ({"server": true, "saved": ...})."""
        for state in self.awareness.states.values():
            if state and state.get("server"):
                return state
        return None

    def saved_covers_own_edits(self) -> bool:
        server = self.server_state()
        if server is None:
            return False
        saved = protocol.decode_state_vector(base64.b64decode(server["saved"]))
        own = protocol.decode_state_vector(self.doc.get_state()).get(self.doc.client_id, 0)
        return saved.get(self.doc.client_id, 0) >= own

    async def reconnect(self, timeout: float = 30.0) -> None:
        """Connect again with the same Doc until synced, as y-websocket clients do.

        Retries after closes that mean "try again" (4011 restarted/moved,
        4013 too slow or stopping, 1006 dropped) and after a proxy's 5xx
        answer to the handshake, with a growing backoff.
        The sync re-sends whatever the server lacks of this client's edits.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        backoff = 0.1
        while True:
            if self._ws is not None:
                await self.close()
            self.synced.clear()
            self.closed.clear()
            self.close_code = None
            try:
                await self.connect()
                waiters = [asyncio.ensure_future(self.synced.wait()), asyncio.ensure_future(self.closed.wait())]
                await asyncio.wait(waiters, timeout=max(0.1, deadline - asyncio.get_running_loop().time()),
                                   return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
                if self.synced.is_set() and not self.closed.is_set():
                    return
            except OSError:
                pass
            except InvalidStatus as exc:
                # A proxy answers 502/503 while the process behind it restarts: try again, as
                # y-websocket does. A 4xx (a refused Origin, say) is final.
                if exc.response.status_code < 500:
                    raise
            if self.close_code in (4401, 4403, 4404) or asyncio.get_running_loop().time() > deadline:
                raise ConnectionError(f"could not reconnect (last close code {self.close_code})")
            await asyncio.sleep(backoff)  # reconnection backoff, as y-websocket's provider does
            backoff = min(backoff * 2, 1.0)

    def text(self) -> str:
        return str(self.fragment)

    async def close(self) -> None:
        if self._subscription is not None:
            self.doc.unobserve(self._subscription)
            self._subscription = None
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


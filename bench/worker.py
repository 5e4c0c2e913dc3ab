"""One generator process: `python -m bench.worker` with its part of the clients.

It talks to the runner (bench.runner) in JSON lines: the runner writes a
config and then commands on stdin, the worker answers with events on stdout.

    config  -> connect everything          <- {"event": "ready"}
    go      -> type until the end time     <- {"event": "sent", "clocks": {...}}
    expect  -> wait until all is received  <- {"event": "done", ...}   (records pickled to a file)
    close   -> disconnect and exit

Idle workers get `config` (connect `first` clients per document), `go`
(connect the rest) and `close`; reconnect-storm is an idle worker with
`first` 0, every client connecting at once, and `expect` (the documents'
state vector: a client is synced once it has received all of it).

With `connect_at_start`, typing workers connect their editors only when the
run starts (documents loaded during the run: a cold start); each editor
types its schedule shifted by the time it took to be synced, so every editor
types as much as in a warm run.
"""

import asyncio
import json
import math
import os
import pickle
import resource
import sys
import time

from .clients import Editor, IdleClient, Recorder


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Worker:
    def __init__(self, config: dict):
        self.config = config
        self.host = config["host"]
        self.port = config["port"]
        self.connect_concurrency = config.get("connect_concurrency", 32)
        self._stdin: asyncio.StreamReader | None = None

    def emit(self, **event) -> None:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    async def command(self) -> dict:
        line = await self._stdin.readline()
        if not line:
            raise SystemExit(0)  # the runner went away
        return json.loads(line)

    async def _connect_all(self, clients, on_synced=None) -> list:
        """Connect with bounded concurrency; returns the clients that failed (with their error).

        on_synced(client) is called as each client is synced.
        """
        slots = asyncio.Semaphore(self.connect_concurrency)
        failures = []

        async def one(client):
            async with slots:
                for attempt in range(3):
                    try:
                        await client.connect(self.host, self.port, client.headers)
                        synced = asyncio.ensure_future(client.synced.wait())
                        closed = asyncio.ensure_future(client.closed.wait())
                        await asyncio.wait([synced, closed], timeout=60, return_when=asyncio.FIRST_COMPLETED)
                        synced.cancel()
                        closed.cancel()
                        if client.synced.is_set():
                            if on_synced is not None:
                                on_synced(client)
                            return
                        if client.close_code is not None:
                            # Refused by the server (auth, limits): retrying would not help.
                            failures.append(f"closed {client.close_code} {client.ws.close_reason}")
                            return
                        error = TimeoutError("not synced within 60 s")
                    except (OSError, asyncio.TimeoutError) as exc:
                        error = exc
                    await asyncio.sleep(0.2 * (attempt + 1))
                failures.append(repr(error))

        await asyncio.gather(*(one(c) for c in clients))
        return failures

    async def main(self) -> None:
        loop = asyncio.get_running_loop()
        self._stdin = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(self._stdin), sys.stdin)
        if self.config["kind"] == "idle":
            await self.run_idle()
        else:
            await self.run_typing()

    async def run_idle(self) -> None:
        docs = self.config["docs"]
        expect = {int(c): n for c, n in self.config["expect"].items()} if self.config.get("expect") else None
        first, rest = [], []
        for d in docs:
            for c, headers in enumerate(d["headers"]):
                (first if c < d.get("first", 0) else rest).append(IdleClient(d["path"], headers, expect))
        failures = await self._connect_all(first)
        self.emit(event="ready", connected=len(first) - len(failures), failures=failures[:5], cpu=cpu_seconds())
        await self.command()
        started = time.monotonic()
        failures = await self._connect_all(rest)
        self.emit(event="connected", connected=len(rest) - len(failures), failures=failures[:5],
                  seconds=time.monotonic() - started, cpu=cpu_seconds(),
                  # Each client's time from `go` to synced, and the step 2 frames that held too little.
                  synced_s=[c.synced_at - started for c in rest if c.synced_at is not None],
                  short_states=sum(c.short_states for c in rest))
        await self.command()
        clients = first + rest
        closed_early = sum(1 for c in clients if c.close_code is not None)
        codes = {}
        for c in clients:
            if c.close_code is not None:
                codes[c.close_code] = codes.get(c.close_code, 0) + 1
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        self.emit(event="closed", closed_early=closed_early, close_codes=codes)

    async def run_typing(self) -> None:
        cfg = self.config
        authors = {int(k): v for k, v in cfg["authors"].items()}
        recorder = Recorder(cfg["epoch_ns"], authors)
        editors = [
            Editor(e["index"], e["client_id"], d["path"], recorder, seed=cfg["seed"] * 100_003 + e["index"],
                   headers=e["headers"], applies=e.get("applies", True))
            for d in cfg["docs"] for e in d["editors"]
        ]
        cold = cfg.get("connect_at_start", False)
        if not cold:
            failures = await self._connect_all(editors)
            if failures:
                self.emit(event="error", error=f"{len(failures)} editors could not connect: {failures[:3]}")
                return
            for editor in editors:
                editor.apply_pending()
        self.emit(event="ready", connected=0 if cold else len(editors), cpu=cpu_seconds())

        go = await self.command()
        loop = asyncio.get_running_loop()
        # The runner's start and end, on the shared monotonic clock (loop.time() is time.monotonic()).
        start, end = go["start"], go["end"]
        period = 1.0 / cfg["rate"]
        cpu_go = None

        lags = []  # how late each keystroke ran after its scheduled time: the generator's own delay
        planned = 0
        chains = len(editors)  # editors still typing (or yet to start)
        finished = asyncio.Event()
        frames_go = awareness_go = 0  # frames received before typing (the sync) are not counted

        def chain_done():
            nonlocal chains
            chains -= 1
            if chains == 0:
                finished.set()

        def tick(editor, when, stop):
            # Every keystroke scheduled before the end is typed, however late (the lag says how late).
            if editor.closed.is_set():
                return chain_done()
            lags.append(loop.time() - when)
            editor.type_one()
            nxt = when + period
            if nxt < stop:
                loop.call_at(nxt, tick, editor, nxt, stop)
            else:
                chain_done()

        def begin(editor, delay=0.0):
            # Its schedule (start..end), `delay` seconds later: every editor types as much, however long
            # it took to connect.
            nonlocal planned
            first = start + editor.rng.uniform(0, period) + delay
            if first < end + delay:
                loop.call_at(first, tick, editor, first, end + delay)
                planned += math.ceil((end + delay - first) / period)
            else:
                chain_done()

        if chains == 0:
            finished.set()
        connect_failures, synced_s = [], None
        if cold:
            await asyncio.sleep(max(0.0, start - loop.time()))
            cpu_go = cpu_seconds()

            def synced(editor):
                # Its schedule starts once it holds the document: the time spent connecting is the
                # server's, not generator lag; it is reported as the time the last editor was synced.
                nonlocal frames_go, awareness_go
                frames_go += editor.ws.frames_in
                awareness_go += editor.awareness_frames
                editor.apply_pending()
                begin(editor, max(0.0, loop.time() - start))

            connect_failures = await self._connect_all(editors, on_synced=synced)
            synced_s = loop.time() - start
            for editor in editors:
                if not editor.synced.is_set():
                    chain_done()
        else:
            for editor in editors:
                begin(editor)
            await asyncio.sleep(max(0.0, start - loop.time()))
            cpu_go = cpu_seconds()
            frames_go = sum(e.ws.frames_in for e in editors)
            awareness_go = sum(e.awareness_frames for e in editors)
        await asyncio.wait_for(finished.wait(), max(0.0, end - loop.time()) + 120)
        cpu_sent = cpu_seconds()
        lags.sort()
        self.emit(event="sent", clocks={e.index: e.clock for e in editors}, cpu=cpu_sent - cpu_go,
                  seconds=loop.time() - start,
                  closed=sum(1 for e in editors if e.closed.is_set()), planned=planned,
                  connect_failures=connect_failures[:5], not_connected=len(connect_failures), synced_s=synced_s,
                  lag_ms=[round(lags[int(q * (len(lags) - 1))] * 1000, 2) if lags else None for q in (0.5, 0.99, 1.0)])

        expect = await self.command()
        expected_by_doc = {path: {int(a): n for a, n in clocks.items()} for path, clocks in expect["docs"].items()}
        deadline = loop.time() + expect.get("timeout", 30)
        while loop.time() < deadline:
            if all(e.caught_up(expected_by_doc[e.path]) or e.closed.is_set() for e in editors):
                break
            await asyncio.sleep(0.05)
        cpu_done = cpu_seconds()
        states = {}
        for editor in editors:
            text, sv = editor.final_state()
            states[editor.index] = {"path": editor.path, "text_hash": hash_text(text), "length": len(text),
                                    "applies": editor.applies,
                                    "sv": sv, "caught_up": editor.caught_up(expected_by_doc[editor.path]),
                                    "close_code": editor.close_code}
        with open(cfg["record_file"], "wb") as f:
            pickle.dump({"sends": recorder.sends, "receipts": recorder.receipts}, f, protocol=pickle.HIGHEST_PROTOCOL)
        self.emit(event="done", states=states, fallbacks=recorder.fallbacks, cpu_window=cpu_done - cpu_go,
                  cpu_total=cpu_seconds(), frames=sum(e.ws.frames_in for e in editors) - frames_go,
                  awareness_frames=sum(e.awareness_frames for e in editors) - awareness_go)
        await self.command()
        await asyncio.gather(*(e.close() for e in editors), return_exceptions=True)
        self.emit(event="closed")


def hash_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:16]


def main() -> None:
    raise_fd_limit()
    config = json.loads(sys.stdin.readline())
    cpus = config.get("cpus")
    if cpus:
        os.sched_setaffinity(0, set(cpus))
    asyncio.run(Worker(config).main())


if __name__ == "__main__":
    main()

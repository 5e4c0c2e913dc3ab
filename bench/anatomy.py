"""What an idle synced connection costs our server: memory by allocation site, and idle CPU.

    python -m bench.anatomy --connections 2000 [--documents 20] [--spy 10] [--out DIR]

Starts our server (as bench does: a fresh SQLite database, production
settings) with tracemalloc on, connects `--base` idle clients (every
document open), takes a snapshot, connects the rest, waits, takes another,
and writes the difference per connection by allocation site (file:line),
with the RSS difference. Then it samples the idle server with py-spy
(`--spy` seconds) and reports its CPU while idle. The snapshots are taken
by the server itself on SIGUSR1 (a wrapper around `python -m editor.serve`
installs the handler), so nothing in the product knows about this.

tracemalloc makes the server slower and bigger; the per-connection figures
are what Python allocates, RSS adds what it does not see (the kernel's
socket buffers are not in RSS at all).
"""

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from . import procstat, profile
from .clients import IdleClient
from .servers import ROOT, OurServer, _pinned, _wait_listening

_WRAPPER = (
    "import os, signal, tracemalloc\n"
    "def dump(*_):\n"
    "    tracemalloc.take_snapshot().dump(os.environ['ANATOMY_SNAPSHOT'] + '.tmp')\n"
    "    os.replace(os.environ['ANATOMY_SNAPSHOT'] + '.tmp', os.environ['ANATOMY_SNAPSHOT'])\n"
    "signal.signal(signal.SIGUSR1, dump)\n"
    "import sys\n"
    "from editor.serve import main\n"
    "main(sys.argv[1:])\n"
)


class TracedServer(OurServer):
    def __init__(self, snapshot: Path, trace: int, **kwargs):
        super().__init__(**kwargs)
        self.snapshot = snapshot
        self.trace = trace

    def start(self, timeout: float = 300.0) -> "TracedServer":  # tracemalloc slows the start down
        self._log = open(self.log_path, "ab")
        flags = ["-X", f"tracemalloc={self.trace}"] if self.trace else []
        self.proc = subprocess.Popen(
            [sys.executable, *flags, "-c", _WRAPPER], cwd=ROOT,
            env={**self.env, "PORT": str(self.port), "HOST": "127.0.0.1", "ANATOMY_SNAPSHOT": str(self.snapshot)},
            stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=_pinned(self.cpus),
        )
        _wait_listening(self.proc, self.port, self.log_path, timeout)
        return self

    def take_snapshot(self, name: str) -> tracemalloc.Snapshot:
        self.snapshot.unlink(missing_ok=True)
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 120
        while not self.snapshot.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the server took no snapshot")
            time.sleep(0.2)  # the server writes it when it gets to it
        kept = self.snapshot.with_name(name)
        os.replace(self.snapshot, kept)
        return tracemalloc.Snapshot.load(str(kept))


async def _connect(server: OurServer, clients: list[IdleClient], concurrency: int = 64) -> int:
    slots = asyncio.Semaphore(concurrency)

    async def one(client):
        async with slots:
            await client.connect("127.0.0.1", server.port, client.headers)
            await asyncio.wait_for(client.synced.wait(), 60)

    results = await asyncio.gather(*(one(c) for c in clients), return_exceptions=True)
    return sum(1 for r in results if isinstance(r, BaseException))


def _sites(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, n: int, top: int) -> list[str]:
    lines = ["| bytes per connection | blocks per connection | where |", "| ---: | ---: | --- |"]
    stats = after.compare_to(before, "lineno")
    for s in stats[:top]:
        frame = s.traceback[0]
        path = frame.filename
        for marker in ("site-packages/", "/lib/python3"):
            if marker in path:
                path = path.split(marker, 1)[1]
        path = path.replace(str(ROOT) + "/", "")
        lines.append(f"| {s.size_diff / n:,.0f} | {s.count_diff / n:.1f} | `{path}:{frame.lineno}` |")
    total = sum(s.size_diff for s in stats)
    lines.append(f"| **{total / n:,.0f}** | | all Python allocations |")
    return lines


async def _run(args) -> str:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    server = TracedServer(out / "snapshot.bin", trace=0 if args.no_trace else args.frames, cpus=[0])
    report = [f"Command: `python -m bench.anatomy {' '.join(sys.argv[1:])}`", ""]
    clients: list[IdleClient] = []
    try:
        per_doc = -(-args.connections // args.documents)
        server.prepare(args.documents, per_doc)
        server.start()
        paths = [server.path(d) for d in server.documents]
        everyone = [IdleClient(paths[i % args.documents], server.headers_for(i % args.documents, i // args.documents))
                    for i in range(args.connections)]
        base, rest = everyone[:args.base], everyone[args.base:]
        clients = everyone
        failed = await _connect(server, base)
        await asyncio.sleep(3)
        rss0 = procstat.rss_bytes(server.pid)
        snap0 = server.take_snapshot("before.bin") if not args.no_trace else None
        t0 = time.monotonic()
        cpu0 = procstat.cpu_seconds(server.pid)
        failed += await _connect(server, rest)
        connect_s = time.monotonic() - t0
        cpu_connect = procstat.cpu_seconds(server.pid) - cpu0
        await asyncio.sleep(5)
        rss1 = procstat.rss_bytes(server.pid)
        snap1 = server.take_snapshot("after.bin") if not args.no_trace else None
        n = len(rest)
        report += [f"{len(everyone)} idle synced connections over {args.documents} documents ({failed} failed); "
                   f"the figures are per connection over the last {n} (every document already open).", "",
                   f"- RSS per connection: {(rss1 - rss0) / n / 1024:.1f} KB "
                   f"({rss0 / 2**20:.1f} MB → {rss1 / 2**20:.1f} MB)",
                   f"- server CPU per connect: {cpu_connect / n * 1e6:,.0f} µs ({connect_s:.1f} s to connect)"]
        if snap1 is not None:
            report += ["", "Python allocations per connection by site (tracemalloc, biggest first):", "",
                       *_sites(snap0, snap1, n, args.top)]
        # Idle CPU, then where it goes.
        await asyncio.sleep(2)
        cpu0 = procstat.cpu_seconds(server.pid)
        await asyncio.sleep(args.idle)
        idle_pct = (procstat.cpu_seconds(server.pid) - cpu0) / args.idle * 100
        report += ["", f"- server CPU while idle: {idle_pct:.2f} % of a core over {args.idle:.0f} s"]
        if args.spy and profile.py_spy():
            collapsed = out / "idle-profile.txt"
            spy = profile.start(server.pid, args.spy, collapsed, rate=100)
            await asyncio.sleep(args.spy + 2)
            spy.wait(30)
            if collapsed.exists():
                report += ["", f"py-spy of the idle server ({args.spy} s, 100 Hz; idle waits included):", "",
                           profile.summarize(collapsed, top=15)]
        closed = Counter(c.close_code for c in everyone if c.close_code is not None)
        report += ["", f"- connections closed by the server meanwhile: {sum(closed.values())} {dict(closed) or ''}"]
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        server.stop()
        server.cleanup()
    return "\n".join(report) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.anatomy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--base", type=int, default=200, help="connections before the first snapshot")
    parser.add_argument("--documents", type=int, default=20)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measured")
    parser.add_argument("--spy", type=int, default=10, help="seconds of py-spy on the idle server (0: none)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-trace", action="store_true", help="no tracemalloc (RSS and CPU as served)")
    parser.add_argument("--frames", type=int, default=1, help="frames per tracemalloc traceback (before.bin and "
                        "after.bin are kept in --out for a closer look)")
    parser.add_argument("--out", default="/tmp/bench-anatomy")
    args = parser.parse_args()
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.sched_setaffinity(0, {1})
    text = asyncio.run(_run(args))
    print(text)
    (Path(args.out) / "anatomy.md").write_text(text)


if __name__ == "__main__":
    main()

"""Runs one scenario against one server: start it fresh, drive the workers, measure.

The runner itself is pinned to the generator's cores (it seeds documents,
checks convergence and times the big-doc joins); servers to theirs.
"""

import asyncio
import json
import os
import pickle
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from . import procstat, profile, setup, trace
from .servers import ROOT, OurServer, PeerServer

TARGETS = {"ours": OurServer, "peer": PeerServer}


@dataclass
class Options:
    duration: float = 20.0  # seconds of typing per typing scenario
    workers: int = 1  # generator processes
    server_cpus: list = field(default_factory=lambda: [0])
    generator_cpus: list = field(default_factory=lambda: [1])
    seed: int = 1
    drain_timeout: float = 30.0  # after typing stops, how long receivers may take to catch up
    idle_connections: int = 5000
    idle_documents: int = 100
    many_docs_documents: int = 200  # many-docs and many-docs-pg: documents (3 editors each)
    storm_clients: int = 2000  # reconnect-storm: clients connecting at once
    storm_documents: int = 200  # reconnect-storm: documents they spread over
    bigdoc_joins: int = 10  # sequential fresh joins; then as many at once
    trace_file: str | None = None
    full_docs: int = 8  # per document, editors that apply what they receive when there are more than 50
    profile_dir: str | None = None  # record our server with py-spy into this folder during typing
    server_env: dict = field(default_factory=dict)  # extra environment for our server (e.g. COLLAB_* knobs)


class WorkerProcess:
    def __init__(self, config: dict):
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.worker"], cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.send(config)

    def _read(self):
        for line in self.proc.stdout:
            self.events.put(json.loads(line))
        self.events.put({"event": "exit", "code": self.proc.wait()})

    def send(self, message: dict):
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def expect(self, name: str, timeout: float, on_wait=None) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.events.get(timeout=0.25)
            except queue.Empty:
                if on_wait:
                    on_wait()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"worker did not report {name!r} within {timeout}s")
                continue
            if event["event"] == name:
                return event
            if event["event"] in ("error", "exit"):
                raise RuntimeError(f"worker failed while waiting for {name!r}: {event}")

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(10)
            except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
                self.proc.kill()
                self.proc.wait()


def percentile(sorted_values, q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(q / 100 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def latency_stats(record_files) -> dict:
    sends: dict[int, array] = {}
    receipts = []
    for path in record_files:
        with open(path, "rb") as f:
            data = pickle.load(f)
        sends.update(data["sends"])
        receipts.append(data["receipts"])
    latencies = array("q")
    firsts = array("q")  # of each author's first edit (its clock 0): in a cold run, just after its document loaded
    unknown = 0
    last = 0
    for flat in receipts:
        for i in range(0, len(flat), 4):
            author, start, end, t = flat[i], flat[i + 1], flat[i + 2], flat[i + 3]
            sent = sends.get(author)
            if t > last:
                last = t
            for clock in range(start, end):
                if sent is None or clock >= len(sent):
                    unknown += 1  # not typed in the measured run (e.g. the seed content)
                else:
                    latencies.append(t - sent[clock])
                    if clock == 0:
                        firsts.append(t - sent[clock])
    values = sorted(latencies)
    firsts = sorted(firsts)
    ms = lambda us: round(us / 1000, 3)  # noqa: E731
    return {
        "deliveries": len(values),
        "p50_ms": ms(percentile(values, 50)), "p95_ms": ms(percentile(values, 95)),
        "p99_ms": ms(percentile(values, 99)), "max_ms": ms(values[-1]) if values else None,
        "mean_ms": ms(sum(values) / len(values)) if values else None,
        "first_edit_ms": {"p50": ms(percentile(firsts, 50)), "p99": ms(percentile(firsts, 99)),
                          "max": ms(firsts[-1]) if firsts else None, "deliveries": len(firsts)},
        "last_receipt_us": last, "unattributed": unknown,
        "sent": sum(len(a) for a in sends.values()),
    }


def _split(items, n):
    return [items[i::n] for i in range(n)]


class Runner:
    def __init__(self, options: Options):
        self.options = options
        self._bigdoc: tuple | None = None
        if options.generator_cpus:
            os.sched_setaffinity(0, set(options.generator_cpus))

    def _server(self, target: str, documents: int, clients_per_document: int, database: str = "sqlite",
                processes: int | None = None):
        cls = TARGETS[target]
        kwargs = {"cpus": self.options.server_cpus}
        if processes is not None:
            # Behind nginx on PostgreSQL + Redis, each process on a core of its own (bench/cluster.py).
            from .cluster import ProxiedCluster

            if cls is not OurServer:
                raise ValueError("only our server runs as a cluster")
            cls = ProxiedCluster
            kwargs.update(processes=processes, env=self.options.server_env, proxy_cpus=self.options.generator_cpus)
        elif cls is OurServer:
            kwargs["database"] = database
            kwargs["env"] = self.options.server_env
        server = cls(**kwargs)
        server.prepare(documents, clients_per_document)
        server.start()
        self.last_code = code_fingerprint() if cls is not PeerServer else None
        return server

    @staticmethod
    def _restart_cold(server, spare: int) -> float:
        """Restart our server, so that every document is cold (the peer's restart does nothing).

        Then one client opens the spare document `spare` (not one of the scenario's), so that the process's
        own warm-up (first imports, first database connection) is not counted in the scenario: it is
        reported apart, as the time that first client took to be synced (ms).
        """
        server.restart()
        first = asyncio.run(setup.fresh_sync("127.0.0.1", server.port, server.headers_for(spare),
                                             server.path(server.documents[spare])))
        return round(first["synced_s"] * 1000, 1)

    # --- typing: typing-E, many-docs, persist ----------------------------------------

    def typing(self, target: str, documents: int, editors: int, rate: float, database: str = "sqlite",
               label: str = "typing", cold: bool = False, processes: int | None = None) -> dict:
        """cold: our server restarts after the seeding and the editors connect as the run starts, so every
        document is loaded during the run (the peer has no database: its documents stay in memory).
        processes: our server as `processes` Daphne processes behind nginx, on PostgreSQL + Redis."""
        opts = self.options
        spy = None
        server = self._server(target, documents + (1 if cold else 0), editors, database,  # cold: a spare document
                              processes)
        cluster = getattr(server, "mark", None) is not None
        tmp = tempfile.TemporaryDirectory(prefix="bench-records-")
        workers = []
        try:
            host, port = "127.0.0.1", server.port
            paths = [server.path(d) for d in server.documents[:documents]]
            owners = [(p, server.headers_for(j)) for j, p in enumerate(paths)]
            asyncio.run(setup.seed_documents(host, port, owners))
            first_connect_ms = self._restart_cold(server, documents) if cold else None
            pids = getattr(server, "pids", None) or server.pid  # after the restart; a cluster's are summed
            rss_before = procstat.rss_bytes(pids)
            # Editors: global index i, Yjs client id 1000 + i; spread over workers editor by editor.
            all_editors = [(i, paths[i // editors]) for i in range(documents * editors)]
            authors = {1000 + i: i for i, _ in all_editors}
            epoch = time.monotonic_ns()
            nworkers = max(1, min(opts.workers, len(all_editors)))
            for w, part in enumerate(_split(all_editors, nworkers)):
                docs: dict[str, list] = {}
                for i, path in part:
                    docs.setdefault(path, []).append({"index": i, "client_id": 1000 + i,
                                                      "headers": server.headers_for(i // editors, i % editors),
                                                      "applies": editors <= 50 or i % editors < opts.full_docs})
                config = {
                    "kind": "typing", "host": host, "port": port,
                    "docs": [{"path": p, "editors": e} for p, e in docs.items()],
                    "authors": authors, "epoch_ns": epoch, "rate": rate, "seed": opts.seed,
                    "record_file": str(Path(tmp.name) / f"w{w}.pickle"), "cpus": opts.generator_cpus,
                    "connect_at_start": cold,
                }
                workers.append(WorkerProcess(config))
                workers[-1].record_file = config["record_file"]
            ready = [w.expect("ready", 300) for w in workers]
            stats_before = server.postgres.stats() if getattr(server, "postgres", None) else None
            writer_before = (time.monotonic(), server.writer_stats()) if target == "ours" else None
            sampler = procstat.Sampler(pids)
            start = time.monotonic() + 1.0
            end = start + opts.duration
            for w in workers:
                w.send({"cmd": "go", "start": start, "end": end})
            time.sleep(max(0.0, start - time.monotonic()))
            cpu0 = procstat.cpu_seconds(pids)
            if cluster:
                server.mark("start")
            if opts.profile_dir and target == "ours":
                Path(opts.profile_dir).mkdir(parents=True, exist_ok=True)
                collapsed = Path(opts.profile_dir) / f"profile-{label}.txt"
                spy = profile.start(server.pid, opts.duration, collapsed)
            sent = [w.expect("sent", opts.duration + 150, sampler.sample) for w in workers]
            clocks_by_doc: dict[str, dict] = {path: {} for path in paths}
            for event in sent:
                for index, n in event["clocks"].items():
                    clocks_by_doc[paths[int(index) // editors]][int(index)] = n
            for w in workers:
                w.send({"cmd": "expect", "docs": clocks_by_doc, "timeout": opts.drain_timeout})
            done = [w.expect("done", opts.drain_timeout + 60, sampler.sample) for w in workers]
            cpu1 = procstat.cpu_seconds(pids)
            if cluster:
                server.mark("end")  # sockets still open: how many were forwarded
            writer_after = (time.monotonic(), server.writer_stats()) if target == "ours" else None
            if spy is not None:
                _, err = spy.communicate(timeout=60)
                if collapsed.exists():
                    (Path(opts.profile_dir) / f"profile-{label}.md").write_text(
                        f"# py-spy profile of our server: {label}\n\n" + profile.summarize(collapsed))
                else:
                    print(f"py-spy failed: {err[-2000:]}", flush=True)
            rss_after = sampler.sample()
            for w in workers:
                w.send({"cmd": "close"})
            for w in workers:
                w.expect("closed", 60)
            # Convergence: every editor of a document, and a fresh client, hold the same text.
            try:
                fresh = asyncio.run(setup.document_hashes(host, port, owners))
                verify_error = None
            except Exception as exc:
                fresh, verify_error = {}, f"{type(exc).__name__}: {exc}"
            states = {int(i): s for event in done for i, s in event["states"].items()}
            stats_after = None
            peak_rss = max(sampler.peak, procstat.peak_rss_bytes(pids))
        finally:
            for w in workers:
                w.stop()
            server.stop()
        try:
            if getattr(server, "postgres", None):
                stats_after = server.postgres.stats()  # after the server stopped: its backends flushed their counters
            result = self._typing_result(
                target, documents, editors, rate, ready, sent, done, states, fresh, clocks_by_doc,
                latency_stats([w.record_file for w in workers]), cpu1 - cpu0, start, epoch,
                rss_before, rss_after, peak_rss,
            )
            if cold:
                # Documents loaded during the run: when the last editor was synced, and who never was.
                result["cold_start"] = target == "ours"
                result["first_connect_after_restart_ms"] = first_connect_ms
                result["editors_synced_s"] = round(max(e["synced_s"] for e in sent), 2)
                result["editors_not_connected"] = sum(e["not_connected"] for e in sent)
                result["connect_failures"] = [f for e in sent for f in e["connect_failures"]][:5]
            if verify_error:
                result["converged"] = None
                result["verify_error"] = verify_error
            if stats_before is not None:
                result["database"] = _db_delta(stats_before, stats_after, opts.duration)
            if writer_before is not None and writer_before[1] and writer_after[1]:
                result["writer"] = _writer_delta(writer_before, writer_after)
            result["database_backend"] = database if target == "ours" else "none (in memory)"
            if cluster:
                result["cluster"] = server.summary(result["deliveries"])
                # Each process has a core of its own: near 1, the processes (not the load) set the pace.
                result["cluster"]["server_cpu_share_per_process"] = (
                    round(result["server_cpu_s"] / result["window_s"] / len(server.pids), 2)
                    if result["window_s"] else None)
                result["database_backend"] = "postgres + redis, behind nginx"
            return result
        finally:
            tmp.cleanup()
            server.cleanup()

    def scale_out(self, loads: float = 2.0) -> dict:
        """many-docs at `loads` times its documents, on 1 and on 2 processes behind nginx (bench/cluster.py)."""
        documents = int(self.options.many_docs_documents * loads)
        runs = {f"processes_{n}": self.typing("ours", documents, 3, 1, label=f"scale-out-{n}", cold=True,
                                              processes=n) for n in (1, 2)}
        one, two = runs["processes_1"], runs["processes_2"]

        def ratio(key: str):
            a, b = _dig(one, key), _dig(two, key)
            return round(b / a, 2) if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a else None

        return {"target": "ours", "documents": documents, **runs, "two_vs_one": {
            "delivered_per_s": ratio("delivered_per_s"), "latency_p99": ratio("latency_ms.p99_ms"),
            "server_cpu_us_per_delivery": ratio("server_cpu_us_per_delivery"),
        }}

    def _typing_result(self, target, documents, editors, rate, ready, sent, done, states, fresh, clocks_by_doc,
                       lat, server_cpu, start, epoch, rss_before, rss_after, peak_rss) -> dict:
        opts = self.options
        expected = sum(sum(c.values()) * (editors - 1) for c in clocks_by_doc.values())
        diverged = []
        for path, check in fresh.items():
            own = [s for s in states.values() if s["path"] == path and s.get("applies", True)]
            hashes = {s["text_hash"] for s in own}
            if hashes != {check["text_hash"]}:
                diverged.append(path)
        closed = sum(1 for s in states.values() if s["close_code"] is not None)
        gen_cpu = sum(d["cpu_window"] for d in done)
        gen_cores = len(opts.generator_cpus) if opts.generator_cpus else os.cpu_count()
        # While typing, how busy the generator was: near 1, it (not the server) set the pace.
        typing_share = sum(s["cpu"] for s in sent) / max(s["seconds"] for s in sent) / gen_cores
        # From the first keystroke to the last receipt (the drain included).
        window = epoch / 1e9 + lat["last_receipt_us"] / 1e6 - start
        lag_p99 = max((s["lag_ms"][1] or 0) for s in sent)
        return {
            "target": target, "documents": documents, "editors_per_document": editors, "rate": rate,
            "duration_s": opts.duration, "workers": len(done),
            "edits_planned": sum(s["planned"] for s in sent), "edits_sent": lat["sent"],
            # How late keystrokes ran after their schedule, worst worker: large values mean the generator
            # was starved (by its own load or other processes on its cores) and typed late or not at all.
            "generator_lag_ms": {"p50": max((s["lag_ms"][0] or 0) for s in sent), "p99": lag_p99,
                                 "max": max((s["lag_ms"][2] or 0) for s in sent)}, "deliveries_expected": expected, "deliveries": lat["deliveries"],
            "all_delivered": lat["deliveries"] == expected and all(s["caught_up"] for s in states.values()),
            "converged": not diverged, "diverged_documents": len(diverged), "closed_connections": closed,
            # Editors holding a full Doc (their texts and a fresh client's must agree); the rest parse and time.
            "editors_applying": sum(1 for s in states.values() if s.get("applies", True)),
            "latency_ms": {k: lat[k.replace("_ms", "") + "_ms"] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms",
                                                                            "mean_ms")},
            # Each editor's first edit: in a cold run, sent just after its document was loaded.
            "first_edit_latency_ms": lat["first_edit_ms"],
            "delivered_per_s": round(lat["deliveries"] / window, 1) if window > 0 else None,
            "server_cpu_s": round(server_cpu, 2),
            "server_cpu_us_per_delivery": round(server_cpu / lat["deliveries"] * 1e6, 2) if lat["deliveries"] else None,
            "server_rss_mb": round(rss_after / 2**20, 1), "server_peak_rss_mb": round(peak_rss / 2**20, 1),
            "server_rss_before_mb": round(rss_before / 2**20, 1),
            "client_cpu_s": round(gen_cpu, 2),
            "client_cpu_share": round(gen_cpu / window / gen_cores, 2) if window > 0 else None,
            "client_cpu_share_typing": round(typing_share, 2),
            "generator_bound": typing_share > 0.9 or lag_p99 > 100,
            "window_s": round(window, 2), "fallback_frames": sum(d["fallbacks"] for d in done),
            # Frames the editors received (sync + awareness), and per delivered edit: 1.0 is one frame per
            # edit per receiver; coalescing brings it below 1.
            "frames_received": sum(d["frames"] for d in done),
            "awareness_frames_received": sum(d["awareness_frames"] for d in done),
            "frames_per_delivery": round(sum(d["frames"] for d in done) / lat["deliveries"], 3)
            if lat["deliveries"] else None,
        }

    # --- idle ------------------------------------------------------------------------------

    def idle(self, target: str) -> dict:
        opts = self.options
        return self._connections(target, opts.idle_documents, opts.idle_connections, storm=False)

    def storm(self, target: str) -> dict:
        opts = self.options
        return self._connections(target, opts.storm_documents, opts.storm_clients, storm=True)

    def _connections(self, target: str, ndocs: int, total: int, storm: bool) -> dict:
        """Many connections that sync and stay idle.

        idle: every document is opened first (one connection each), then the rest connect, 64 at a time.
        storm (reconnect-storm): the documents are seeded, our server restarts (every document cold, as
        after a restart or a failover), then every client connects at once; a client is synced once the
        server's sync step 2 holds the seeded content.
        """
        opts = self.options
        per_doc = [total // ndocs + (1 if i < total % ndocs else 0) for i in range(ndocs)]
        server = self._server(target, ndocs + (1 if storm else 0), max(per_doc))  # storm: a spare document
        workers = []
        try:
            host, port = "127.0.0.1", server.port
            paths = [server.path(d) for d in server.documents[:ndocs]]
            expect = first_connect_ms = None
            if storm:
                asyncio.run(setup.seed_documents(host, port, [(p, server.headers_for(j)) for j, p in enumerate(paths)]))
                expect = setup.seed_state_vector()
                first_connect_ms = self._restart_cold(server, ndocs)
            time.sleep(1.0)
            rss_start = procstat.rss_bytes(server.pid)
            nworkers = max(1, opts.workers)
            docs = [{"path": p, "first": 0 if storm else 1, "headers": [server.headers_for(j, c) for c in range(n)]}
                    for j, (p, n) in enumerate(zip(paths, per_doc))]
            for part in _split(docs, nworkers):
                config = {"kind": "idle", "host": host, "port": port, "docs": part, "expect": expect,
                          "cpus": opts.generator_cpus, "connect_concurrency": total if storm else 64}
                workers.append(WorkerProcess(config))
            first = [w.expect("ready", 300) for w in workers]
            if not storm:
                time.sleep(2.0)
            rss_docs = procstat.rss_bytes(server.pid)
            spy = None
            if storm and opts.profile_dir and target == "ours":
                # The storm only: py-spy stops (and writes) on SIGINT once the last client is connected.
                Path(opts.profile_dir).mkdir(parents=True, exist_ok=True)
                collapsed = Path(opts.profile_dir) / "profile-reconnect-storm.txt"
                spy = profile.start(server.pid, 900, collapsed)
                time.sleep(0.5)  # py-spy attaches
            cpu0 = procstat.cpu_seconds(server.pid)
            t0 = time.monotonic()
            for w in workers:
                w.send({"cmd": "go"})
            rest = [w.expect("connected", 900) for w in workers]
            connect_s = time.monotonic() - t0
            cpu1 = procstat.cpu_seconds(server.pid)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                _, err = spy.communicate(timeout=60)
                if collapsed.exists():
                    (Path(opts.profile_dir) / "profile-reconnect-storm.md").write_text(
                        "# py-spy profile of our server: reconnect-storm\n\n" + profile.summarize(collapsed))
                else:
                    print(f"py-spy failed: {err[-2000:]}", flush=True)
            time.sleep(3.0)
            rss_all = procstat.rss_bytes(server.pid)
            cpu_idle0 = procstat.cpu_seconds(server.pid)
            time.sleep(5.0)
            cpu_idle1 = procstat.cpu_seconds(server.pid)
            rss_end = procstat.rss_bytes(server.pid)
            for w in workers:
                w.send({"cmd": "close"})
            closed = [w.expect("closed", 120) for w in workers]
        finally:
            for w in workers:
                w.stop()
            server.stop()
            server.cleanup()
        connected = sum(e["connected"] for e in first) + sum(e["connected"] for e in rest)
        later = connected - sum(e["connected"] for e in first)
        result = {
            "target": target, "documents": ndocs, "connections": connected, "requested": total,
            "failures": [f for e in first + rest for f in e["failures"]][:5],
            "closed_early": sum(e["closed_early"] for e in closed),
            "close_codes": _sum_counts(e.get("close_codes", {}) for e in closed),
            "server_rss_start_mb": round(rss_start / 2**20, 1), "server_rss_docs_open_mb": round(rss_docs / 2**20, 1),
            "server_rss_mb": round(max(rss_all, rss_end) / 2**20, 1),
            "rss_per_connection_kb": round((max(rss_all, rss_end) - rss_start) / connected / 1024, 1),
            "rss_per_extra_connection_kb": round((max(rss_all, rss_end) - rss_docs) / later / 1024, 1)
            if later and not storm else None,
            "connect_s": round(connect_s, 2), "connections_per_s": round(later / connect_s, 1),
            "server_cpu_s": round(cpu1 - cpu0, 2),
            "server_cpu_us_per_connect": round((cpu1 - cpu0) / later * 1e6, 1) if later else None,
            "server_idle_cpu_pct": round((cpu_idle1 - cpu_idle0) / 5.0 * 100, 1),
            "client_cpu_s": round(sum(e["cpu"] for e in rest) - sum(e["cpu"] for e in first), 2),
        }
        if storm:
            result.update(storm_result([s for e in rest for s in e["synced_s"]], total))
            result["short_states"] = sum(e["short_states"] for e in rest)
            result["cold_start"] = target == "ours"
            result["first_connect_after_restart_ms"] = first_connect_ms
        return result

    # --- big-doc ---------------------------------------------------------------------------

    def bigdoc_update(self) -> tuple:
        if self._bigdoc is None:
            t0 = time.monotonic()
            source = self.options.trace_file
            patches = trace.from_file(source) if source else trace.synthetic(seed=2017)
            update, ops, length = trace.build_document(patches)
            self._bigdoc = (update, ops, length, source or "synthetic (seed 2017)", time.monotonic() - t0)
        return self._bigdoc

    def bigdoc(self, target: str) -> dict:
        update, ops, length, source, build_s = self.bigdoc_update()
        server = self._server(target, 1, 1)
        try:
            host, port = "127.0.0.1", server.port
            path = server.path(server.documents[0])
            t0 = time.monotonic()
            headers = server.headers_for(0)
            asyncio.run(setup.seed_documents(host, port, [(path, headers)], update=update, timeout=120))
            upload_s = time.monotonic() - t0
            rss_loaded = procstat.rss_bytes(server.pid)
            cpu0 = procstat.cpu_seconds(server.pid)

            async def joins():
                sequential = [await setup.fresh_sync(host, port, headers, path, timeout=120)
                              for _ in range(self.options.bigdoc_joins)]
                burst_t0 = time.monotonic()
                burst = await asyncio.gather(*(setup.fresh_sync(host, port, headers, path, timeout=120)
                                               for _ in range(self.options.bigdoc_joins)))
                return sequential, burst, time.monotonic() - burst_t0

            sequential, burst, burst_s = asyncio.run(joins())
            cpu1 = procstat.cpu_seconds(server.pid)
            rss_after = procstat.rss_bytes(server.pid)
        finally:
            server.stop()
            server.cleanup()
        expected_hash = setup.text_hash(_text_of(update))
        every = sequential + burst
        seq_synced = sorted(j["synced_s"] for j in sequential)
        seq_step2 = sorted(j["step2_s"] for j in sequential)
        burst_synced = sorted(j["synced_s"] for j in burst)
        return {
            "target": target, "source": source, "operations": ops, "final_length": length,
            "update_bytes": len(update), "build_s": round(build_s, 2), "upload_s": round(upload_s, 3),
            "converged": all(j["text_hash"] == expected_hash for j in every),
            "joins": len(every),
            "sync_ms": {"p50": round(percentile(seq_synced, 50) * 1000, 2),
                        "max": round(seq_synced[-1] * 1000, 2)},
            "first_byte_of_state_ms": {"p50": round(percentile(seq_step2, 50) * 1000, 2)},
            "burst_sync_ms": {"p50": round(percentile(burst_synced, 50) * 1000, 2),
                              "max": round(burst_synced[-1] * 1000, 2)},
            "burst_wall_s": round(burst_s, 3),
            "step2_bytes": sequential[0]["step2_bytes"], "bytes_in_per_join": sequential[0]["bytes_in"],
            "server_cpu_s": round(cpu1 - cpu0, 3),
            "server_cpu_ms_per_join": round((cpu1 - cpu0) / len(every) * 1000, 2),
            "server_rss_loaded_mb": round(rss_loaded / 2**20, 1), "server_rss_mb": round(rss_after / 2**20, 1),
        }


def _dig(d: dict, dotted: str):
    for part in dotted.split("."):
        d = d.get(part) if isinstance(d, dict) else None
    return d


def storm_result(synced_s: list[float], requested: int) -> dict:
    """A storm's figures from each client's time from `go` to synced (seconds; clients never synced are absent)."""
    times = sorted(synced_s)
    return {
        "all_synced": len(times) == requested,
        "synced": len(times),
        # The storm is over when the last client is synced.
        "storm_s": round(times[-1], 3) if len(times) == requested else None,
        "sync_ms": {"p50": round(percentile(times, 50) * 1000, 1), "p99": round(percentile(times, 99) * 1000, 1),
                    "max": round(times[-1] * 1000, 1) if times else None},
    }


def _sum_counts(counts) -> dict:
    total: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            total[str(k)] = total.get(str(k), 0) + v
    return total


def code_fingerprint() -> dict:
    """Which server code ran: HEAD, and a hash of the server's sources as they were (the tree may be dirty)."""
    import hashlib

    digest = hashlib.sha256()
    for folder in ("collab", "editor", "documents"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {"head": head.stdout.strip(), "sources": digest.hexdigest()[:12]}


def _text_of(update: bytes) -> str:
    from pycrdt import Doc, XmlFragment

    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    doc.apply_update(update)
    return str(fragment)


def _writer_delta(before: tuple, after: tuple) -> dict:
    """The server's group commit over the run (from the go until everything was delivered): its transactions
    and the writes they held (update-log rows and snapshots), per second of that window."""
    seconds = after[0] - before[0]
    commits = after[1]["commits"] - before[1]["commits"]
    writes = after[1]["writes"] - before[1]["writes"]
    return {
        "seconds": round(seconds, 2), "commits": commits, "commits_per_s": round(commits / seconds, 1),
        "writes": writes, "writes_per_s": round(writes / seconds, 1),
        "writes_per_commit": round(writes / commits, 1) if commits else None,
        "failed_commits": after[1]["failed_commits"] - before[1]["failed_commits"],
    }


def _db_delta(before: dict, after: dict, duration: float) -> dict:
    tables = {}
    for name, t in after["tables"].items():
        b = before["tables"].get(name, {"ins": 0, "upd": 0, "del": 0, "bytes": 0})
        d = {k: t[k] - b[k] for k in ("ins", "upd", "del", "bytes")}
        if any(d.values()):
            tables[name] = d
    commits = after["commits"] - before["commits"]
    written = after["inserted"] - before["inserted"] + after["updated"] - before["updated"]
    return {
        "commits": commits, "commits_per_s": round(commits / duration, 1),
        "rows_written": written, "rows_written_per_s": round(written / duration, 1),
        "wal_bytes": after["wal_lsn"] - before["wal_lsn"],
        "wal_bytes_per_s": round((after["wal_lsn"] - before["wal_lsn"]) / duration),
        "tables": tables,
    }

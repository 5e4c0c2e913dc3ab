"""Our server as operators run it at scale: N Daphne processes on one PostgreSQL database and Redis,
behind nginx (deploy/nginx.conf, bench/proxy.py), each process pinned to a core of its own.

To the runner it looks like one OurServer (`port` is the proxy's; `pids` are the Daphne processes,
whose CPU and memory are summed), plus what only a cluster has: the proxy's CPU and, from each
process's /metrics, how many sockets were forwarded to another process's owner.
"""

import os
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from . import procstat
from .proxy import NginxProxy
from .servers import OurServer, PostgresDatabase

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


class ProxiedCluster:
    name = "ours"
    stop_timeout = 30.0

    def __init__(self, processes: int, *, cpus=None, proxy_cpus=None, env: dict | None = None):
        self.tmp = tempfile.TemporaryDirectory(prefix="collab-bench-cluster-")
        self.postgres = PostgresDatabase()
        shared = {
            "DATABASE_URL": self.postgres.url, "REDIS_URL": REDIS_URL,
            # Processes sharing Redis share one key (editor/settings.py).
            "SECRET_KEY_FILE": str(Path(self.tmp.name) / "secret_key"),
            # Each process's /metrics, for the runner on loopback.
            "METRICS_NETWORKS": "127.0.0.1/32",
            **(env or {}),
        }
        cpus = list(cpus or [])
        # One core each, round the list (taskset's way: sched_setaffinity before exec).
        self.servers = [OurServer(cpus=[cpus[i % len(cpus)]] if cpus else None, env=shared)
                        for i in range(processes)]
        self.proxy = NginxProxy([s.port for s in self.servers], cpus=proxy_cpus)
        self._marks: dict[str, dict] = {}

    # --- what the runner asks of a server -------------------------------------------------

    @property
    def port(self) -> int:
        return self.proxy.port

    @property
    def pid(self) -> int:
        return self.servers[0].pid  # py-spy, if asked, records the first process

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self.servers]

    def path(self, document: str) -> str:
        return self.servers[0].path(document)

    def prepare(self, documents: int, clients_per_document: int = 1) -> None:
        first = self.servers[0]
        first.prepare(documents, clients_per_document)  # migrates and seeds the shared database
        for other in self.servers[1:]:
            other.tokens, other.ops_token = first.tokens, first.ops_token
            other.documents, other.clients_per_document = first.documents, first.clients_per_document

    @property
    def documents(self) -> list[str]:
        return self.servers[0].documents

    def headers_for(self, document: int, client: int = 0) -> dict:
        return self.servers[0].headers_for(document, client)

    def start(self) -> "ProxiedCluster":
        for server in self.servers:
            server.start()
        self.proxy.start()
        return self

    def restart(self) -> None:
        """Every process restarts (same ports): every document is cold. The proxy stays up."""
        for server in self.servers:
            server.stop()
        for server in self.servers:
            server.start()

    def stop(self) -> None:
        self.proxy.stop()
        for server in self.servers:
            server.stop()

    def cleanup(self) -> None:
        for server in self.servers:
            server.tmp.cleanup()
        self.proxy.cleanup()
        self.postgres.drop()
        self.tmp.cleanup()

    def log(self) -> str:
        return "\n".join(s.log() for s in self.servers) + "\n" + self.proxy.log_path.read_text(errors="replace")

    def writer_stats(self) -> dict | None:
        """The group commits of every process, summed."""
        stats = [s.writer_stats() for s in self.servers]
        if any(s is None for s in stats):
            return None
        return {k: sum(s[k] for s in stats) for k in ("commits", "writes", "failed_commits", "pending")}

    # --- what only a cluster has -----------------------------------------------------------

    def mark(self, name: str) -> None:
        """Note the proxy's CPU and every process's socket counts now (the runner calls it at the go and
        once everything is delivered, sockets still open)."""
        self._marks[name] = {"proxy_cpu_s": procstat.cpu_seconds(self.proxy.pids()),
                             "processes": [self.metrics(s) for s in self.servers]}

    @staticmethod
    def metrics(server: OurServer) -> dict:
        """A few figures of one process's /metrics."""
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as response:
            text = response.read().decode()
        wanted = {"collab_connections", "collab_connections_forwarded", "collab_documents_open",
                  "collab_leases_held", "collab_lease_takeovers_total", "collab_messages_received_total",
                  "collab_fanout_frames_total"}
        figures: dict = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in wanted:
                    figures[sample.name] = figures.get(sample.name, 0) + sample.value
        return figures

    def summary(self, deliveries: int) -> dict:
        """The cluster's own figures over the run, from the marks."""
        start, end = self._marks.get("start"), self._marks.get("end")
        if not start or not end:
            return {}
        processes = end["processes"]
        sockets = sum(p.get("collab_connections", 0) for p in processes)
        forwarded = sum(p.get("collab_connections_forwarded", 0) for p in processes)
        proxy_cpu = end["proxy_cpu_s"] - start["proxy_cpu_s"]
        return {
            "processes": len(self.servers),
            "sockets": int(sockets), "forwarded_sockets": int(forwarded),
            "forwarded_share": round(forwarded / sockets, 4) if sockets else None,
            "documents_per_process": [int(p.get("collab_documents_open", 0)) for p in processes],
            "sockets_per_process": [int(p.get("collab_connections", 0)) for p in processes],
            "lease_takeovers": int(sum(p.get("collab_lease_takeovers_total", 0) for p in processes)),
            "proxy_cpu_s": round(proxy_cpu, 2),
            "proxy_cpu_us_per_delivery": round(proxy_cpu / deliveries * 1e6, 2) if deliveries else None,
            "pinned_cores": [s.cpus for s in self.servers],
        }

    @staticmethod
    def version() -> dict:
        return {**OurServer.version(), "nginx": _nginx_version()}


def _nginx_version() -> str:
    try:
        out = subprocess.run([shutil.which("nginx") or "/usr/sbin/nginx", "-v"], capture_output=True, text=True,
                             timeout=10)
    except OSError:
        return "?"
    return (out.stderr or out.stdout).strip().split("/")[-1]

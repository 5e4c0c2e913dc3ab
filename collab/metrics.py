"""What an operator watches of this process's engine, as Prometheus metrics (served by editor/metrics.py).

Cheap where it is hot. Per frame, the engine only adds 1 to a plain integer
here (a dict entry, no lock, no call into prometheus-client): every frame is
handled on the process's one event loop, and so are scrapes (the view is
async), so nothing else touches these numbers while they move. Gauges (open
documents, connections, unsaved bytes, leases) are not kept at all: the
collector reads them from the engine's own state at scrape time, as
/healthz/collab does (collab.live.process_stats). Only the two histograms,
observed once per commit and once per write (a few a second), are
prometheus-client objects.

Each Daphne process serves its own /metrics: Prometheus scrapes every process
(its `instance` label tells them apart); sums across processes are the
cluster's. The cluster-wide list of live documents stays in Redis
(`manage.py collab_actors`).
"""

import collections
import time

from prometheus_client import REGISTRY, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from . import protocol

# --- counted by the engine as it goes (plain integers) -----------------------------------

# Frames received from this process's client sockets, by message class (protocol.decode's result).
received: collections.Counter = collections.Counter()
# Frames written to this process's client sockets, keyed by `count_sent` (an int: no object per frame).
sent: collections.Counter = collections.Counter()
# Update frames the actors of this process handed to subscribers (local sockets and other processes').
fanout_frames = 0
# Connections refused as they opened (not signed in, no access, no such document, limits), by close code.
refused: collections.Counter = collections.Counter()
# Every close this process sent to one of its client sockets (refusals included), by close code.
closed: collections.Counter = collections.Counter()
actors_started = 0
actor_crashes = 0
lease_acquisitions = 0
# Acquisitions of a document whose previous owner never released it (it died, hung or lost Redis).
lease_takeovers = 0
# Leases this process lost without releasing them (renewal refused, or Redis out past the TTL).
leases_lost = 0

# --- observed per commit / per write ---------------------------------------------------

COMMIT_SECONDS = Histogram(
    "collab_commit_seconds", "Time of one group commit (one transaction for every pending write of the process)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
FLUSH_LAG_SECONDS = Histogram(
    "collab_flush_lag_seconds", "From the first edit a write holds until that write was committed "
    "(the durability window in practice; COLLAB_FLUSH_MAX_WAIT plus the commit when healthy)",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30, 60, 300))

_RECEIVED_NAMES = {protocol.SyncStep1: "sync_step1", protocol.SyncStep2: "sync_step2", protocol.Update: "update",
                   protocol.AwarenessUpdate: "awareness", protocol.QueryAwareness: "query_awareness"}
# count_sent's keys: a sync message's sub-type, or 256 + the message type of any other.
_SENT_NAMES = {0: "sync_step1", 1: "sync_step2", 2: "update", 256 + 1: "awareness", 256 + 3: "query_awareness"}


def count_sent(frame: bytes) -> None:
    """One frame written to a client socket (the send path: one dict update)."""
    sent[frame[1] if frame[0] == 0 else 256 + frame[0]] += 1


def _sent_name(key) -> str:
    return _SENT_NAMES.get(key, "other")


class EngineCollector:
    """Reads the engine's counters and state when Prometheus scrapes; call it on the event loop."""

    def describe(self):
        return []  # no check against other collectors' names at registration (collect reads live state)

    def collect(self):
        from .consumer import _connections_per_user  # the consumer imports this module
        from .registry import current_registry

        counter = CounterMetricFamily
        received_total = counter("collab_messages_received", "Frames received from this process's WebSocket "
                                 "clients, by y-websocket message type", labels=["type"])
        for cls, name in _RECEIVED_NAMES.items():
            received_total.add_metric([name], received[cls])
        yield received_total
        sent_total = counter("collab_messages_sent", "Frames sent to this process's WebSocket clients, by "
                             "y-websocket message type", labels=["type"])
        by_name: collections.Counter = collections.Counter({name: 0 for name in _SENT_NAMES.values()})
        for key, n in list(sent.items()):
            by_name[_sent_name(key)] += n
        for name, n in by_name.items():
            sent_total.add_metric([name], n)
        yield sent_total
        yield counter("collab_fanout_frames", "Update frames this process's actors sent to their subscribers "
                      "(after coalescing)", value=fanout_frames)
        yield _by_code("collab_connections_refused", "WebSocket connections refused as they opened, by close code",
                       refused)
        yield _by_code("collab_connections_closed", "Closes this process sent to its WebSocket clients "
                       "(refusals included), by close code", closed)
        yield counter("collab_actors_started", "Document actors started (documents opened) in this process",
                      value=actors_started)
        yield counter("collab_actor_crashes", "Document actors that failed (their clients were closed with 4011 "
                      "and the document reloads from the store)", value=actor_crashes)
        yield counter("collab_lease_acquisitions", "Documents this process took ownership of", value=lease_acquisitions)
        yield counter("collab_lease_takeovers", "Documents taken over from an owner that never released them "
                      "(died, hung, or lost Redis)", value=lease_takeovers)
        yield counter("collab_leases_lost", "Leases this process lost without releasing them (another process "
                      "may own those documents now)", value=leases_lost)

        registry = current_registry()
        actors = registry.actors() if registry is not None else []
        now = time.monotonic()
        gauge = GaugeMetricFamily
        yield gauge("collab_documents_open", "Open documents (actors) in this process", value=len(actors))
        yield gauge("collab_document_subscribers", "Subscribers of this process's actors (its own sockets and "
                    "other processes' forwarded ones)", value=sum(actor.subscriber_count for actor in actors))
        yield gauge("collab_connections", "Open WebSocket connections to this process",
                    value=sum(_connections_per_user.values()))
        cluster = registry.cluster if registry is not None else None
        yield gauge("collab_connections_forwarded", "Of those, connections whose document is owned by another "
                    "process (frames forwarded through Redis)", value=len(cluster.remote_actors) if cluster else 0)
        yield gauge("collab_leases_held", "Documents whose lease this process holds", value=len(cluster.leases)
                    if cluster else 0)
        plans = [actor.persistence for actor in actors]
        yield gauge("collab_unsaved_bytes", "Bytes of edits received but not yet handed to the database",
                    value=sum(plan.unsaved_bytes for plan in plans))
        oldest = min((since for since in (plan.oldest_unsaved for plan in plans) if since is not None), default=None)
        yield gauge("collab_unsaved_oldest_seconds", "Age of the oldest edit not yet durably stored (0: none); "
                    "grows while the database refuses writes", value=now - oldest if oldest is not None else 0)
        yield gauge("collab_documents_failing", "Open documents whose writes are failing (kept in memory, "
                    "retried)", value=sum(1 for plan in plans if plan.failing))
        writer = getattr(registry.store, "writer", None) if registry is not None else None
        stats = writer.stats() if writer is not None else {"commits": 0, "writes": 0, "failed_commits": 0,
                                                           "pending": 0}
        yield counter("collab_writer_commits", "Group-commit transactions attempted", value=stats["commits"])
        yield counter("collab_writer_writes", "Writes committed (update-log rows and snapshots)", value=stats["writes"])
        yield counter("collab_writer_failed_commits", "Group-commit transactions that failed as a whole (database "
                      "down)", value=stats["failed_commits"])
        yield gauge("collab_writer_pending", "Writes waiting for the next group commit", value=stats["pending"])


def _by_code(name: str, documentation: str, counts: collections.Counter) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=["code"])
    for code, n in sorted(counts.items()):
        family.add_metric([str(code)], n)
    return family


_collector: EngineCollector | None = None


def register() -> None:
    """Add the engine's collector to prometheus-client's default registry (once per process)."""
    global _collector
    if _collector is None:
        _collector = EngineCollector()
        REGISTRY.register(_collector)

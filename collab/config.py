"""The engine's knobs, read once from settings.COLLAB (see editor/settings.py)."""

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class CollabConfig:
    # Quiet period before unsaved updates are written to the log.
    flush_delay: float = 0.1
    # Ceiling: unsaved updates are written at most this long after the first one.
    flush_max_wait: float = 0.5
    # A snapshot is taken this long after the first change since the last one.
    snapshot_interval: float = 60.0
    # An actor with no subscribers stops after this long.
    idle_timeout: float = 10.0
    # Largest encoded document, in bytes: an update that would exceed it is refused, and
    # so is a single message larger than it (one message may carry a whole document).
    max_document_size: int = 16 * 1024 * 1024
    # Sustained client messages per second per connection, and the burst above it.
    rate_limit: float = 200.0
    rate_burst: int = 1000
    # Connections per document (per owner process) and per user (per process).
    max_connections_per_document: int = 500
    max_connections_per_user: int = 50
    # Every open socket's access is re-checked this often (a safety net beside the signals).
    reauth_interval: float = 5.0
    # A socket must start the sync (send step 1) within this many seconds.
    handshake_timeout: float = 15.0
    # Updates arriving within this many seconds of the last fan-out are merged into one frame.
    fanout_interval: float = 0.01
    # Frames queued for one connection before it is closed as too slow.
    send_queue_limit: int = 1024
    # Bytes held for one connection (queued, or in its socket's buffer) beyond its largest
    # frame before it is closed as too slow: what a client that stops reading can pin.
    send_buffer_bytes: int = 8 * 1024 * 1024
    # External messages waiting in one mailbox before senders wait.
    mailbox_size: int = 1024
    # Threads running database work for this process's actors.
    persist_threads: int = 4
    # Longest wait between retries of a failed write.
    retry_max: float = 5.0
    # Dotted path of the store class.
    store: str = "collab.store.DjangoStore"
    # Redis for the cluster's leases; empty: a single process owns everything.
    redis_url: str = ""
    # A dead owner's documents are taken over this long after its last renewal.
    lease_ttl: float = 5.0

    @classmethod
    def from_settings(cls) -> "CollabConfig":
        from django.conf import settings

        raw = getattr(settings, "COLLAB", {})
        return cls(**{f.name: raw[f.name.upper()] for f in fields(cls) if f.name.upper() in raw})

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
    # Largest WebSocket message accepted, in bytes.
    max_message_size: int = 1024 * 1024
    # Frames queued for one connection before it is closed as too slow.
    send_queue_limit: int = 1024
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

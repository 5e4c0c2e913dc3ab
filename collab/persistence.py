"""The persistence plan: what of one document is unsaved, and when to write it.

Plain bookkeeping, no I/O and no timers: the actor tells the plan what changed
and what the store answered, passing `now` (its `time.monotonic()`), and asks
it what to write next and when to wake up. The actor runs the writes.

- Debounce with a ceiling: unsaved updates go to the log after `flush_delay`
  of quiet, never later than `flush_max_wait` after the first one, one write
  at a time.
- A snapshot is due `snapshot_interval` after the first change since the last
  one, or as soon as one is asked for.
- A failed write keeps its updates, in front of anything newer, and is retried
  with a backoff doubling up to `retry_max`. Snapshots fail and back off on
  their own: log appends go on meanwhile, so a snapshot that keeps failing
  never holds edits back.
- Never unload what is not saved: see `may_unload`.
- "Saved" is the state vector that the last committed write held, never
  ahead of the database. Clients hear it at most every SAVED_INTERVAL, and
  only when it changed: a busy document commits many times a second, and a
  frame to every subscriber per commit was a quarter of all frames sent.
"""

import enum

from pycrdt import merge_updates

from .config import CollabConfig
from .store import SnapshotData

# Unsaved updates merged into one past this count: memory stays bounded while
# a write is slow or the database is down.
MERGE_AT = 256
# Shortest time between two "saved" publications to a document's subscribers:
# a few a second keeps the indicator lively without a frame per commit.
SAVED_INTERVAL = 0.25


class Write(enum.Enum):
    APPEND = "append"
    SNAPSHOT = "snapshot"


class LogJob:
    __slots__ = ("seq", "update", "state_vector", "received", "authors", "since")

    def __init__(self, seq, update, state_vector, received, authors, since=None):
        self.seq = seq  # UpdateLog sequence number
        self.update = update  # merged unsaved updates
        self.state_vector = state_vector  # document state vector once this is stored
        self.received = received  # count of updates received up to this job
        self.authors = authors  # authors to restore if the write fails
        self.since = since  # when the oldest edit in `update` arrived (monotonic; None: no update)


class SnapshotJob(LogJob):
    __slots__ = ("data", "requests")

    def __init__(self, data, update, received, authors, requests, since=None):
        super().__init__(data.last_seq, update, data.state_vector, received, authors, since)
        self.data = data
        self.requests = requests  # TakeSnapshot requests answered by this snapshot


class PersistencePlan:
    def __init__(self, config: CollabConfig, next_seq: int = 1, state_vector: bytes = b""):
        self._config = config
        self.next_seq = next_seq
        self.unsaved: list[bytes] = []
        self.unsaved_bytes = 0
        self.first_unsaved = 0.0
        # When the oldest edit not yet durably stored arrived: of `unsaved`, and of the write in flight
        # (for metrics; unlike first_unsaved, a failed write's edits keep their time).
        self.unsaved_since: float | None = None
        self.in_flight_since: float | None = None
        self.last_change = 0.0
        self.received = 0  # updates applied so far
        self.durable = 0  # of which durably stored
        self.authors: set[str] = set()  # editors since the last snapshot
        self.changed_at: float | None = None  # first change since the last snapshot
        self.in_flight = False  # a write has started and not finished
        self.retry_at = 0.0
        self.backoff = 0.0
        self.failing = False
        # Snapshots fail and retry on their own: log appends go on meanwhile.
        self.snapshot_retry_at = 0.0
        self.snapshot_backoff = 0.0
        self.snapshot_failing = False
        # TakeSnapshot requests waiting for the next snapshot (the actor answers them).
        self.snapshot_requests: list = []
        # The state vector the last committed write held: what may be called saved.
        self.durable_sv = state_vector
        # The saved state vector subscribers last heard (a loaded document is all saved), and when.
        self.published_sv = state_vector
        self.published_at = float("-inf")

    # --- what changed ------------------------------------------------------------

    def changed(self, update: bytes, author: str | None, now: float) -> None:
        """The document applied `update` (by `author`)."""
        if not self.unsaved:
            self.first_unsaved = now
            self.unsaved_since = now
        self.last_change = now
        self.unsaved.append(update)
        self.unsaved_bytes += len(update)
        self.received += 1
        if author:
            self.authors.add(author)
        if self.changed_at is None:
            self.changed_at = now
        if len(self.unsaved) >= MERGE_AT:
            self.unsaved = [merge_updates(*self.unsaved)]

    @property
    def oldest_unsaved(self) -> float | None:
        """When the oldest edit not yet durably stored arrived (monotonic); None if all are stored."""
        times = [t for t in (self.in_flight_since, self.unsaved_since if self.unsaved else None) if t is not None]
        return min(times, default=None)

    @property
    def dirty(self) -> bool:
        """Is anything not in a snapshot?"""
        return self.changed_at is not None or bool(self.unsaved)

    def may_unload(self) -> bool:
        """May the document leave memory? Only once every edit is stored.

        Every edit in the log is enough when snapshots are failing: the next
        load replays the log rows, which stay until a later snapshot covers
        them. Only the version this snapshot would have made (and its
        authors) is missing from the history: a lesser loss than pinning the
        document in memory until the snapshot can be written.
        """
        unsnapshotted = self.changed_at is not None and not self.snapshot_failing
        return not (unsnapshotted or self.unsaved)

    # --- when --------------------------------------------------------------------

    def _append_at(self) -> float:
        return min(self.last_change + self._config.flush_delay, self.first_unsaved + self._config.flush_max_wait)

    def deadline(self) -> float:
        """When something is next due (inf: nothing)."""
        deadlines = [float("inf")]
        if self.unsaved and not self.in_flight:
            deadlines.append(max(self._append_at(), self.retry_at))
        if self.changed_at is not None and not self.in_flight:
            deadlines.append(max(self.changed_at + self._config.snapshot_interval, self.retry_at,
                                 self.snapshot_retry_at))
        if self.durable_sv != self.published_sv:
            deadlines.append(self.published_at + SAVED_INTERVAL)
        return min(deadlines)

    def due(self, now: float) -> Write | None:
        """The write that is due by the clock, if any."""
        if self.in_flight or now < self.retry_at:
            return None
        append_due = bool(self.unsaved) and now >= self._append_at()
        snapshot_due = (
            self.changed_at is not None
            and now >= self.changed_at + self._config.snapshot_interval
            and now >= self.snapshot_retry_at
        )
        if append_due and self.snapshot_failing:
            # A snapshot that keeps failing must not hold edits back from the log.
            return Write.APPEND
        if snapshot_due:
            return Write.SNAPSHOT
        if append_due:
            return Write.APPEND
        return None

    def next_write(self, now: float, snapshot: bool = False, force: bool = False) -> Write | None:
        """What to write now, asked for a write (`force`: at once, past any backoff)."""
        if self.in_flight:
            return None
        if force:
            self.retry_at = 0.0
        if snapshot or (self.snapshot_requests and now >= self.snapshot_retry_at):
            return Write.SNAPSHOT
        return Write.APPEND if self.unsaved else None

    def saved_due(self, now: float) -> bool:
        """Is it time to tell subscribers what is saved? Only if it changed, at most every SAVED_INTERVAL."""
        return self.durable_sv != self.published_sv and now >= self.published_at + SAVED_INTERVAL

    def saved_published(self, now: float, heard: bool = True) -> None:
        """`durable_sv` was published at `now` (`heard`: to subscribers; else to nobody, which costs nothing)."""
        self.published_sv = self.durable_sv
        if heard:
            self.published_at = now

    # --- the writes --------------------------------------------------------------

    def _take_unsaved(self) -> bytes | None:
        if not self.unsaved:
            return None
        update = self.unsaved[0] if len(self.unsaved) == 1 else merge_updates(*self.unsaved)
        self.unsaved = []
        self.unsaved_bytes = 0
        return update

    def start_append(self, state_vector: bytes) -> LogJob:
        """The log append of everything unsaved; `state_vector` is the document's now."""
        since = self.unsaved_since if self.unsaved else None
        job = LogJob(self.next_seq, self._take_unsaved(), state_vector, self.received, set(self.authors), since)
        self.next_seq += 1
        self.in_flight = True
        self.in_flight_since = since
        return job

    def start_snapshot(self, state: bytes, state_vector: bytes) -> SnapshotJob:
        """A snapshot of the document (`state`, `state_vector` now), answering every waiting request."""
        since = self.unsaved_since if self.unsaved else None
        update = self._take_unsaved()
        authors = set(self.authors)
        requests, self.snapshot_requests = self.snapshot_requests, []
        data = SnapshotData(
            state=state,
            state_vector=state_vector,
            last_seq=self.next_seq - 1,
            authors=tuple(sorted(authors)),
            label=next((r.label for r in requests if r.label), ""),
            kind=next((r.kind for r in requests if r.kind != "auto"), "auto"),
        )
        self.authors.clear()
        self.changed_at = None
        self.in_flight = True
        self.in_flight_since = since
        return SnapshotJob(data, update, self.received, authors, requests, since)

    def written(self, job: LogJob) -> None:
        """The store committed `job`."""
        self.in_flight = False
        self.in_flight_since = None
        self.failing = False
        if isinstance(job, SnapshotJob) and self.snapshot_failing:
            self.snapshot_failing = False
            self.snapshot_backoff = 0.0
            self.snapshot_retry_at = 0.0
        self.backoff = 0.0
        self.retry_at = 0.0
        self.durable = max(self.durable, job.received)
        self.durable_sv = job.state_vector

    def failed(self, job: LogJob, now: float) -> bool:
        """The store could not write `job` (retry later). True if this starts a failing spell of its kind.

        Whatever the cause (the database is down, or something in this
        document's content cannot be stored), the edits it held are back in
        `unsaved`, in front of anything newer. After a failed snapshot the
        next log append is due at once: it takes them.
        """
        self.in_flight = False
        self.in_flight_since = None
        if job.update is not None:
            if not self.unsaved:
                self.first_unsaved = now
            # In front of anything newer: the oldest edit is now one of the job's.
            self.unsaved_since = job.since if job.since is not None else now
            self.unsaved.insert(0, job.update)
            self.unsaved_bytes += len(job.update)
        if isinstance(job, SnapshotJob):
            self.authors |= job.authors
            if self.changed_at is None:
                self.changed_at = now - self._config.snapshot_interval
            self.snapshot_backoff = min(max(self.snapshot_backoff * 2, 0.25), self._config.retry_max)
            self.snapshot_retry_at = now + self.snapshot_backoff
            started, self.snapshot_failing = not self.snapshot_failing, True
            return started
        self.backoff = min(max(self.backoff * 2, 0.25), self._config.retry_max)
        self.retry_at = now + self.backoff
        started, self.failing = not self.failing, True
        return started

    def discard(self) -> None:
        """Forget what is unsaved: the document is abandoned (deleted, or owned elsewhere now)."""
        self.unsaved = []
        self.unsaved_bytes = 0
        self.changed_at = None

"""Group commit: one writer per process that commits every document's pending writes together.

Each open document's actor still decides what to write and when (its
`PersistencePlan`: the durability window, backoff, snapshots), and keeps one
write in flight. What changed is who talks to the database: the actor hands
its write to this writer and awaits the outcome; the writer gathers whatever
is pending across all documents and commits it in one transaction, with at
most one commit in flight per process. A commit per document per flush was
most of the server's CPU with many documents open (bench/results/
profile-many-docs.md: 53 %, ~400 transactions/s); a commit per batch costs
about the same whatever the batch holds.

The batch's outcome is per write: a write refused for its own document
(StaleOwner, DocumentGone) fails alone, the others are committed. An error
of the whole commit (the database is down) fails every write of the batch,
and each actor retries on its own schedule; nothing is acknowledged before
its commit returns.

The commit itself (`commit(writes) -> outcomes`) is synchronous (the Django
ORM) and runs in a thread of the writer's own, so the event loop never
blocks on the database.
"""

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from . import metrics

logger = logging.getLogger(__name__)


class GroupWriter:
    """Gathers writes and commits them `max_batch` at a time, one commit after the other.

    `commit(writes)` runs in the writer's thread and returns one outcome per
    write, in order: its result, or the exception that refused it (returned,
    not raised). If it raises, every write of the batch fails with that error.

    `min_interval`: a commit starts at least this long after the one before,
    so that under load each gathers what arrived meanwhile (the first after a
    quiet spell starts at once). Without it a commit took whatever one flush
    had just handed over: 300 commits/s of 1.4 writes each at many-docs, and
    a commit costs about the same whatever it holds.

    `hold`: while it is an unset asyncio.Event, the writer waits before taking
    the next batch (as MemoryStore.hold_appends), so that tests can gather
    chosen writes into one batch.
    """

    def __init__(self, commit, max_batch: int = 1000, min_interval: float = 0.0):
        self._commit = commit
        self._max_batch = max_batch
        self._min_interval = min_interval
        self._started_at = float("-inf")  # the loop's clock when the last commit started
        self._pending: list[tuple[object, asyncio.Future]] = []
        self._task: asyncio.Task | None = None
        # One thread: at most one commit in flight, and it keeps its database connection.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="collab-writer")
        self.hold: asyncio.Event | None = None
        # Counters for observability and the bench (process_stats).
        self.commits = 0  # transactions attempted
        self.writes = 0  # writes committed (log rows and snapshots)
        self.failed_commits = 0  # transactions that failed as a whole

    @property
    def pending(self) -> int:
        """Writes waiting for the next commit."""
        return len(self._pending)

    async def submit(self, write):
        """Commit `write` with whatever else is pending; returns its result once committed, or raises its error."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((write, future))
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            # Starts on the loop's next turn: writes handed over meanwhile join this batch.
            self._task = loop.create_task(self._run(), name="collab-writer")
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            if self.hold is not None and not self.hold.is_set():
                await self.hold.wait()
            wait = self._started_at + self._min_interval - loop.time()
            if wait > 0 and len(self._pending) < self._max_batch:
                await asyncio.sleep(wait)
            self._started_at = loop.time()
            batch, self._pending = self._pending[:self._max_batch], self._pending[self._max_batch:]
            # A caller that gave up (its actor was cancelled) needs no write.
            batch = [(write, future) for write, future in batch if not future.done()]
            if not batch:
                continue
            writes = [write for write, _ in batch]
            self.commits += 1
            started = time.perf_counter()
            try:
                outcomes = await loop.run_in_executor(self._executor, self._commit, writes)
                if len(outcomes) != len(writes):
                    raise RuntimeError(f"commit returned {len(outcomes)} outcomes for {len(writes)} writes")
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as exc:
                # The whole transaction failed: each actor keeps its edits and retries (and logs it once).
                self.failed_commits += 1
                outcomes = [exc] * len(batch)
            finally:
                # Failed commits too: a database that hangs before refusing shows here first.
                metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
            for (_, future), outcome in zip(batch, outcomes):
                if future.done():
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    self.writes += 1
                    future.set_result(outcome)

    def stats(self) -> dict:
        return {"commits": self.commits, "writes": self.writes, "failed_commits": self.failed_commits,
                "pending": self.pending}

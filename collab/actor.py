"""DocumentActor: the single writer of one open document.

Everything that changes the document goes through the actor's mailbox and is
handled one message at a time by the actor's own task, which alone touches
the `pycrdt.Doc`. It fans updates out to every other subscriber, writes them
to the store in the background (debounced, with a ceiling, one write at a
time), takes snapshots, and publishes what is durably stored as its own
awareness state so that clients can show a truthful "Saved".
"""

import asyncio
import enum
import logging
import time

from pycrdt import Doc, merge_updates

from . import codes, nesting, protocol
from .config import CollabConfig
from .messages import (
    Abandon,
    ActorStopped,
    ApplyUpdate,
    FanOut,
    Flush,
    GetState,
    Incoming,
    Inspect,
    Join,
    Leave,
    Request,
    Shutdown,
    TakeSnapshot,
    Tick,
    WriteDone,
)
from .presence import Presence, Refused
from .store import BaseStore, DocumentGone, SnapshotData, StaleOwner

logger = logging.getLogger(__name__)

# Posted by the actor's own timers and writer, or by consumers that must never
# wait (Leave): they bypass the mailbox's bound.
INTERNAL = (Tick, FanOut, WriteDone, Leave, Shutdown, Abandon)

# y-protocols drops a remote awareness state not renewed for 30 s; renew ours well before.
AWARENESS_RENEW = 15.0


class State(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


class _LogJob:
    __slots__ = ("seq", "update", "state_vector", "received", "authors")

    def __init__(self, seq, update, state_vector, received, authors):
        self.seq = seq  # UpdateLog sequence number
        self.update = update  # merged unsaved updates
        self.state_vector = state_vector  # document state vector once this is stored
        self.received = received  # count of updates received up to this job
        self.authors = authors  # authors to restore if the write fails


class _SnapshotJob(_LogJob):
    __slots__ = ("data", "requests")

    def __init__(self, data, update, received, authors, requests):
        super().__init__(data.last_seq, update, data.state_vector, received, authors)
        self.data = data
        self.requests = requests  # TakeSnapshot requests answered by this snapshot


def _is_fatal(exc: BaseException) -> bool:
    return isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError))


class DocumentActor:
    def __init__(self, document_id, store: BaseStore, config: CollabConfig, on_stopped=None, lease=None):
        self.document_id = document_id
        self.state = State.NEW
        # The cluster lease this actor runs under (None in single-process mode).
        self.lease = lease
        self._fence = lease.token if lease is not None else None
        self._store = store
        self._config = config
        self._on_stopped = on_stopped  # called with the actor once it has stopped or failed
        self._doc = Doc()
        # Everyone's presence, and which subscriber may change which entry.
        self._presence = Presence(self._doc)
        self._subscribers: dict[str, object] = {}
        # Unbounded queue; the bound on external messages is the semaphore, so
        # that the actor's own timers and writer can always post.
        self._mailbox: asyncio.Queue = asyncio.Queue()
        self._slots = asyncio.Semaphore(config.mailbox_size)
        self._external = 0  # external messages in the mailbox or waiting for a slot
        self._done = asyncio.Event()  # set once stopped or failed
        self._settled = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")
        # Persistence state.
        self._next_seq = 1
        self._unsaved: list[bytes] = []
        self._unsaved_bytes = 0
        self._first_unsaved = 0.0
        self._last_change = 0.0
        self._received = 0  # updates applied so far
        self._durable = 0  # of which durably stored
        self._authors: set[str] = set()  # editors since the last snapshot
        self._changed_at: float | None = None  # first change since the last snapshot
        self._writer: asyncio.Task | None = None
        self._retry_at = 0.0
        self._backoff = 0.0
        self._failing = False
        # Snapshots fail and retry on their own: log appends go on meanwhile.
        self._snapshot_retry_at = 0.0
        self._snapshot_backoff = 0.0
        self._snapshot_failing = False
        self._flush_waiters: list[tuple[int, asyncio.Future]] = []
        self._snapshot_requests: list[TakeSnapshot] = []
        self._durable_sv = b""
        self._last_commit: float | None = None
        self._idle_since = time.monotonic()
        self._renewed_at = 0.0
        self._gone = False
        # Updates waiting to be fanned out: (update, sid of its sender or None).
        self._outbox: list[tuple[bytes, str | None]] = []
        self._fanout_timer: asyncio.TimerHandle | None = None
        self._last_fanout = float("-inf")
        # Encoded size of the document: exact after a load or snapshot, plus the
        # sizes of the updates applied since (an upper bound: merging shrinks them).
        self._size = 0

    # --- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Load the document from the store and start handling messages."""
        loaded = await self._store.load(self.document_id, self._fence)
        with self._doc.transaction(origin="load"):
            for update in loaded.updates:
                self._doc.apply_update(update)
        self._next_seq = loaded.next_seq
        self._size = len(self._doc.get_update())
        self._durable_sv = self._doc.get_state()
        self._publish_saved()
        self.state = State.RUNNING
        self._settled.set()
        self._task = asyncio.create_task(self._run(), name=f"actor-{self.document_id}")
        self._reschedule()

    async def wait_settled(self) -> None:
        """Wait until the actor is not in the middle of stopping."""
        await self._settled.wait()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    # --- the mailbox -------------------------------------------------------------

    async def tell(self, message) -> None:
        """Put a message in the mailbox, waiting while it is full.

        Raises ActorStopped if the actor has stopped or does so meanwhile.
        """
        while self.state is State.STOPPING:
            await self._settled.wait()
        if self.state is not State.RUNNING:
            raise ActorStopped(f"actor of {self.document_id} is {self.state.value}")
        self._external += 1
        try:
            await self._slots.acquire()
        except BaseException:
            self._external -= 1
            raise
        if self.state is not State.RUNNING:
            self._external -= 1
            self._slots.release()
            raise ActorStopped(f"actor of {self.document_id} is {self.state.value}")
        self._mailbox.put_nowait(message)

    def post(self, message) -> None:
        """Put a message in the mailbox now, past the bound (for Leave and internal messages)."""
        if self.state in (State.RUNNING, State.STOPPING):
            self._mailbox.put_nowait(message)

    async def ask(self, message: Request):
        """Send a request and wait for its answer (or its error)."""
        reply = asyncio.get_running_loop().create_future()
        object.__setattr__(message, "reply", reply)
        await self.tell(message)
        return await reply

    # --- the run loop --------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while True:
                message = await self._mailbox.get()
                if not isinstance(message, INTERNAL):
                    self._external -= 1
                    self._slots.release()
                self._handle(message)
                if self.state is State.STOPPING:
                    if await self._try_stop():
                        return
        except asyncio.CancelledError:
            # The loop is shutting down (tests, process exit): not a failure to supervise.
            if self.state is not State.STOPPED:
                self._finish(State.STOPPED, ActorStopped(f"actor of {self.document_id} was cancelled"))
            raise
        except BaseException as exc:
            self._fail(exc)
            if _is_fatal(exc):
                raise

    def _handle(self, message) -> None:
        match message:
            case Incoming(subscriber, msg):
                self._on_incoming(subscriber, msg)
            case FanOut():
                self._flush_outbox()
            case Tick():
                self._on_tick()
            case WriteDone(job, error, result):
                self._on_write_done(job, error, result)
            case Join(subscriber=subscriber):
                self._answer(message, self._on_join, subscriber)
            case Leave(subscriber):
                self._on_leave(subscriber)
            case ApplyUpdate(update=update, author=author):
                self._answer(message, self._apply_local, update, author)
            case Flush():
                self._on_flush(message)
            case GetState():
                self._answer(message, lambda: (self._doc.get_update(), self._doc.get_state()))
            case TakeSnapshot():
                self._snapshot_requests.append(message)
                self._start_write(force=True)
            case Inspect():
                self._answer(message, self.inspect)
            case Abandon(code, reason):
                self._abandon(code, reason)
            case Shutdown():
                for subscriber in list(self._subscribers.values()):
                    self._drop(subscriber, codes.TRY_AGAIN_LATER, "server shutting down")
                self._idle_since = float("-inf")
                self._on_tick()
            case _:
                raise TypeError(f"expected a mailbox message, got {type(message).__name__}")

    def _answer(self, request: Request, fn, *args) -> None:
        """Run fn and resolve the request with its result; a failure goes back to the caller."""
        try:
            result = fn(*args)
        except Exception as exc:
            if not request.reply.done():
                request.reply.set_exception(exc)
            return
        if not request.reply.done():
            request.reply.set_result(result)

    # --- subscribers ---------------------------------------------------------------

    def _on_join(self, subscriber) -> None:
        if len(self._subscribers) >= self._config.max_connections_per_document:
            subscriber.close(codes.TOO_MANY_CONNECTIONS, "too many connections to this document")
            return
        self._subscribers[subscriber.sid] = subscriber
        # As the reference y-websocket server: our state vector (the client
        # answers with what we lack), then everybody's presence.
        subscriber.send(protocol.encode_sync_step1(self._doc.get_state()))
        subscriber.send(self._presence.everyone())
        self._reschedule()

    def _on_leave(self, subscriber) -> None:
        if self._subscribers.pop(subscriber.sid, None) is None:
            return
        gone = self._presence.leave(subscriber.sid)
        if gone is not None:
            self._broadcast(gone, exclude=None)
        if not self._subscribers:
            self._idle_since = time.monotonic()
        self._reschedule()

    def _broadcast(self, frame: bytes, exclude) -> None:
        # No copy of the dict: `send` never leaves synchronously (a closed subscriber posts a Leave).
        for sid, subscriber in self._subscribers.items():
            if sid != exclude:
                subscriber.send(frame)

    def _on_incoming(self, subscriber, message) -> None:
        if subscriber.sid not in self._subscribers:
            return  # it left (or was closed) while this was in the mailbox
        try:
            match message:
                case protocol.Update(update) | protocol.SyncStep2(update):
                    self._on_client_update(subscriber, update)
                case protocol.SyncStep1(state_vector):
                    subscriber.send(protocol.encode_sync_step2(self._doc.get_update(state_vector)))
                case protocol.AwarenessUpdate(entries=entries):
                    self._on_client_awareness(subscriber, entries)
                case protocol.QueryAwareness():
                    subscriber.send(self._presence.everyone())
        except BaseException as exc:
            if _is_fatal(exc):
                raise
            # pycrdt raises ValueError for an update it cannot decode and a
            # pyo3 PanicException (a BaseException) for some others; either
            # way the Doc rejected it before changing, so only the sender goes.
            logger.warning("document %s: closing %s after a bad message: %r", self.document_id, subscriber.sid, exc)
            self._drop(subscriber, codes.BAD_MESSAGE, "malformed update")

    def _drop(self, subscriber, code: int, reason: str) -> None:
        self._on_leave(subscriber)
        subscriber.close(code, reason)

    def _on_client_update(self, subscriber, update: bytes) -> None:
        if update == protocol.EMPTY_UPDATE:
            return
        if not subscriber.can_write:
            logger.info("document %s: refused an update from viewer %s", self.document_id, subscriber.username)
            return
        if self._size + len(update) > self._config.max_document_size:
            self._size = len(self._doc.get_update())  # re-measure before refusing
            if self._size + len(update) > self._config.max_document_size:
                logger.warning("document %s: refused an update that would exceed %d bytes",
                               self.document_id, self._config.max_document_size)
                self._drop(subscriber, codes.TOO_LARGE, "document size limit reached")
                return
        nesting.check(update)  # raises for values nested too deep for the Doc's stack: a bad message
        with self._doc.transaction(origin=subscriber.sid):
            self._doc.apply_update(update)
        self._after_change(update, subscriber.username, exclude=subscriber.sid)

    def _apply_local(self, update: bytes, author: str) -> bytes:
        with self._doc.transaction(origin="server"):
            self._doc.apply_update(update)
        self._after_change(update, author, exclude=None)
        return self._doc.get_state()

    def _after_change(self, update: bytes, author: str, exclude) -> None:
        self._queue_fanout(update, exclude)
        now = time.monotonic()
        if not self._unsaved:
            self._first_unsaved = now
        self._last_change = now
        self._unsaved.append(update)
        self._unsaved_bytes += len(update)
        self._size += len(update)
        self._received += 1
        if author:
            self._authors.add(author)
        if self._changed_at is None:
            self._changed_at = now
        if len(self._unsaved) >= 256:
            # Keep memory bounded while a write is slow or the database is down.
            self._unsaved = [merge_updates(*self._unsaved)]
        self._reschedule()

    # --- fan-out ------------------------------------------------------------------------

    def _queue_fanout(self, update: bytes, exclude) -> None:
        """Send an update to every subscriber but `exclude`, coalescing bursts.

        The first update after a quiet spell goes out at once; the ones that
        follow within `fanout_interval` are merged and sent together, one
        frame per recipient. Under load this divides the frames (and the
        per-frame cost of the WebSocket stack) by the updates per interval.
        """
        self._outbox.append((update, exclude))
        if self._fanout_timer is not None:
            return
        loop = asyncio.get_running_loop()
        due = self._last_fanout + self._config.fanout_interval
        if loop.time() >= due:
            self._flush_outbox()
        else:
            self._fanout_timer = loop.call_at(due, self.post, FanOut())

    def _flush_outbox(self) -> None:
        batch, self._outbox = self._outbox, []
        self._fanout_timer = None
        self._last_fanout = asyncio.get_running_loop().time()
        if not batch or not self._subscribers:
            return
        if len(batch) == 1:
            update, exclude = batch[0]
            self._broadcast(protocol.encode_update(update), exclude=exclude)
            return
        everyone = protocol.encode_update(merge_updates(*(update for update, _ in batch)))
        # Authors get everything but their own updates (never an echo). Batches
        # hold the few updates of one interval, so this stays cheap.
        for_author = {}
        for author in {who for _, who in batch if who is not None}:
            others = [update for update, who in batch if who != author]
            for_author[author] = protocol.encode_update(merge_updates(*others)) if others else None
        for sid, subscriber in self._subscribers.items():
            frame = for_author[sid] if sid in for_author else everyone
            if frame is not None:
                subscriber.send(frame)

    def _on_client_awareness(self, subscriber, entries) -> None:
        try:
            frame = self._presence.receive(subscriber.sid, subscriber.username, entries)
        except Refused as exc:
            logger.warning("document %s: closing %s: %s", self.document_id, subscriber.sid, exc)
            self._drop(subscriber, codes.BAD_MESSAGE, str(exc))
            return
        if frame is not None:
            self._broadcast(frame, exclude=subscriber.sid)

    def _publish_saved(self) -> None:
        """Our awareness entry tells clients which state is durably stored."""
        frame = self._presence.publish_saved(self._durable_sv)
        self._renewed_at = time.monotonic()
        if self._subscribers:
            self._broadcast(frame, exclude=None)

    # --- timers ------------------------------------------------------------------------

    def _next_deadline(self) -> float:
        deadlines = []
        if self._unsaved and self._writer is None:
            due = min(self._last_change + self._config.flush_delay, self._first_unsaved + self._config.flush_max_wait)
            deadlines.append(max(due, self._retry_at))
        if self._changed_at is not None and self._writer is None:
            deadlines.append(max(self._changed_at + self._config.snapshot_interval, self._retry_at,
                                 self._snapshot_retry_at))
        if self._subscribers:
            deadlines.append(self._renewed_at + AWARENESS_RENEW)
        else:
            deadlines.append(self._idle_since + self._config.idle_timeout)
        return min(deadlines)

    def _reschedule(self) -> None:
        if self.state is not State.RUNNING:
            return
        at = self._next_deadline()
        if self._timer is not None:
            if at >= self._timer_at:
                return
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer_at = at
        self._timer = loop.call_at(loop.time() + max(0.0, at - time.monotonic()), self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._timer_at = float("inf")
        self.post(Tick())

    def _on_tick(self) -> None:
        now = time.monotonic()
        if self._subscribers and now >= self._renewed_at + AWARENESS_RENEW:
            self._publish_saved()
        if self._writer is None and now >= self._retry_at:
            append_due = self._unsaved and now >= min(
                self._last_change + self._config.flush_delay, self._first_unsaved + self._config.flush_max_wait
            )
            snapshot_due = (
                self._changed_at is not None
                and now >= self._changed_at + self._config.snapshot_interval
                and now >= self._snapshot_retry_at
            )
            if append_due and self._snapshot_failing:
                # A snapshot that keeps failing must not hold edits back from the log.
                self._start_write()
            elif snapshot_due:
                self._start_write(snapshot=True)
            elif append_due:
                self._start_write()
        if not self._subscribers and now >= self._idle_since + self._config.idle_timeout and self._writer is None:
            if self._external == 0:  # nobody is about to join
                self.state = State.STOPPING
                self._settled.clear()
        self._reschedule()

    # --- persistence -------------------------------------------------------------------

    def _on_flush(self, request: Flush) -> None:
        if self._durable >= self._received:
            request.reply.set_result(None)
            return
        self._flush_waiters.append((self._received, request.reply))
        self._start_write(force=True)

    def _take_unsaved(self) -> bytes | None:
        if not self._unsaved:
            return None
        update = self._unsaved[0] if len(self._unsaved) == 1 else merge_updates(*self._unsaved)
        self._unsaved = []
        self._unsaved_bytes = 0
        return update

    def _start_write(self, snapshot: bool = False, force: bool = False) -> None:
        """Hand the next write to the writer task, unless one is in flight."""
        if self._writer is not None or self.state is State.FAILED or self._gone:
            return
        if force:
            self._retry_at = 0.0
        snapshot = snapshot or (bool(self._snapshot_requests) and time.monotonic() >= self._snapshot_retry_at)
        if not snapshot and not self._unsaved:
            return
        update = self._take_unsaved()
        authors = set(self._authors)
        if snapshot:
            requests, self._snapshot_requests = self._snapshot_requests, []
            label = next((r.label for r in requests if r.label), "")
            kind = next((r.kind for r in requests if r.kind != "auto"), "auto")
            data = SnapshotData(
                state=self._doc.get_update(),
                state_vector=self._doc.get_state(),
                last_seq=self._next_seq - 1,
                authors=tuple(sorted(authors)),
                label=label,
                kind=kind,
            )
            self._authors.clear()
            self._changed_at = None
            self._size = len(data.state)
            job = _SnapshotJob(data, update, self._received, authors, requests)
            coro = self._store.snapshot(self.document_id, data, self._fence)
        else:
            job = _LogJob(self._next_seq, update, self._doc.get_state(), self._received, authors)
            self._next_seq += 1
            coro = self._store.append(self.document_id, job.seq, update, self._fence)
        self._writer = asyncio.create_task(self._write(job, coro))

    async def _write(self, job, coro) -> None:
        try:
            result = await coro
        except Exception as exc:
            self.post(WriteDone(job, exc))
        else:
            self.post(WriteDone(job, None, result))

    def _on_write_done(self, job, error, result) -> None:
        self._writer = None
        is_snapshot = isinstance(job, _SnapshotJob)
        if error is not None:
            if isinstance(error, DocumentGone):
                self._abandon(codes.NO_SUCH_DOCUMENT, "document deleted")
                return
            if isinstance(error, StaleOwner):
                logger.warning("document %s: a newer owner took over; abandoning", self.document_id)
                self._abandon(codes.INTERNAL_ERROR, "document moved to another server")
                return
            # Keep what was not written, in front of anything newer, and retry later.
            if job.update is not None:
                if not self._unsaved:
                    self._first_unsaved = time.monotonic()
                self._unsaved.insert(0, job.update)
                self._unsaved_bytes += len(job.update)
            if is_snapshot:
                self._on_snapshot_failed(job, error)
                self._reschedule()
                return
            self._backoff = min(max(self._backoff * 2, 0.25), self._config.retry_max)
            self._retry_at = time.monotonic() + self._backoff
            if not self._failing:
                # Once per outage, not once per retry.
                logger.error("document %s: write failed, keeping %d unsaved bytes and retrying: %r",
                             self.document_id, self._unsaved_bytes, error)
                self._failing = True
        else:
            if self._failing:
                logger.warning("document %s: writes recovered", self.document_id)
                self._failing = False
            if is_snapshot and self._snapshot_failing:
                logger.warning("document %s: snapshots recovered", self.document_id)
                self._snapshot_failing = False
                self._snapshot_backoff = 0.0
                self._snapshot_retry_at = 0.0
            self._backoff = 0.0
            self._retry_at = 0.0
            self._durable = max(self._durable, job.received)
            self._durable_sv = job.state_vector
            self._last_commit = time.time()
            self._publish_saved()
            waiting = []
            for target, reply in self._flush_waiters:
                if target <= self._durable:
                    if not reply.done():
                        reply.set_result(None)
                else:
                    waiting.append((target, reply))
            self._flush_waiters = waiting
            if is_snapshot:
                for request in job.requests:
                    if not request.reply.done():
                        request.reply.set_result(result)
            # Chain what piled up meanwhile, if someone is waiting for it.
            if self._flush_waiters or self._snapshot_requests:
                self._start_write(force=True)
        self._reschedule()

    def _on_snapshot_failed(self, job: _SnapshotJob, error: Exception) -> None:
        """A snapshot failed: retry it with its own backoff; meanwhile edits go on to the log.

        Whatever the cause (the database is down, or something in this
        document's content cannot be stored), the edits it held are back in
        `_unsaved`, where the next log append (due at once) takes them. Its
        callers get the error rather than waiting for a retry.
        """
        self._authors |= job.authors
        if self._changed_at is None:
            self._changed_at = time.monotonic() - self._config.snapshot_interval
        for request in job.requests:
            if not request.reply.done():
                request.reply.set_exception(error)
        self._snapshot_backoff = min(max(self._snapshot_backoff * 2, 0.25), self._config.retry_max)
        self._snapshot_retry_at = time.monotonic() + self._snapshot_backoff
        if not self._snapshot_failing:
            # Once until they recover, not once per retry.
            logger.error("document %s: snapshot failed; edits still go to the update log, retrying: %r",
                         self.document_id, error)
            self._snapshot_failing = True

    def abandon(self, code: int, reason: str) -> None:
        """Stop without saving (the document was deleted, or another server owns it now)."""
        self.post(Abandon(code, reason))

    def _abandon(self, code: int, reason: str) -> None:
        """Close every subscriber and stop without saving.

        Clients reconnect and resync with whoever serves the document next,
        resending what it lacks, so edits not yet stored here are not lost.
        """
        self._gone = True
        for subscriber in list(self._subscribers.values()):
            subscriber.close(code, reason)
        self._subscribers.clear()
        self._unsaved = []
        self._changed_at = None
        self._idle_since = 0.0
        self.state = State.STOPPING
        self._settled.clear()

    async def _try_stop(self) -> bool:
        """Final snapshot, then stop; back to running if it failed or someone came.

        Runs inside the actor's task while `tell` holds new messages back, so
        the only messages that can arrive meanwhile are internal ones.
        """
        if not self._gone:
            await self._drain_writer()
            if not self._gone and (self._changed_at is not None or self._unsaved):
                self._start_write(snapshot=True)
                await self._drain_writer()
            if not self._gone and self._unsaved and self._snapshot_failing:
                self._start_write()  # the snapshot failed: the log still takes the edits
                await self._drain_writer()
            # Nothing unsaved: an actor whose every edit is in the log may unload
            # although its snapshot failed. Nothing is lost: the next load
            # replays the log rows, which stay until a later snapshot covers
            # them. Only the version this snapshot would have made (and its
            # authors) is missing from the history: a lesser loss than pinning
            # the document in memory until the snapshot can be written.
            unsnapshotted = self._changed_at is not None and not self._snapshot_failing
            if not self._gone and (unsnapshotted or self._unsaved or self._subscribers):
                # Never unload a document whose last save failed: keep it and retry.
                self.state = State.RUNNING
                self._idle_since = time.monotonic()
                self._settled.set()
                self._reschedule()
                return False
        self._finish(State.STOPPED, ActorStopped(f"actor of {self.document_id} stopped"))
        return True

    async def _drain_writer(self) -> None:
        if self._writer is not None:
            await asyncio.wait([self._writer])
        while not self._mailbox.empty():
            self._handle(self._mailbox.get_nowait())

    def _fail(self, exc: BaseException) -> None:
        logger.error("document %s: actor failed; its subscribers will resync from the store", self.document_id,
                     exc_info=exc)
        for subscriber in list(self._subscribers.values()):
            subscriber.close(codes.INTERNAL_ERROR, "document actor restarted")
        self._subscribers.clear()
        self._finish(State.FAILED, ActorStopped(f"actor of {self.document_id} failed: {exc!r}"))

    def _finish(self, state: State, error: Exception) -> None:
        self.state = state
        if self._timer is not None:
            self._timer.cancel()
        if self._fanout_timer is not None:
            self._fanout_timer.cancel()
        if self._writer is not None and state is State.FAILED:
            self._writer.cancel()
        while not self._mailbox.empty():
            message = self._mailbox.get_nowait()
            if isinstance(message, Request) and message.reply is not None and not message.reply.done():
                message.reply.set_exception(error)
        for _, reply in self._flush_waiters:
            if not reply.done():
                reply.set_exception(error)
        for request in self._snapshot_requests:
            if not request.reply.done():
                request.reply.set_exception(error)
        self._settled.set()
        self._done.set()
        if self._on_stopped is not None:
            self._on_stopped(self)

    async def stop(self) -> None:
        """Stop now (process shutdown): close subscribers, take a final snapshot.

        Returns once stopped; if the final save fails the actor keeps the
        document and retries, and this keeps waiting (bound it with a timeout).
        """
        if self.state not in (State.RUNNING, State.STOPPING):
            return
        self.post(Shutdown())
        await self._done.wait()

    # --- observability -------------------------------------------------------------------

    def inspect(self) -> dict:
        return {
            "document": str(self.document_id),
            "state": self.state.value,
            "subscribers": len(self._subscribers),
            "unsaved_bytes": self._unsaved_bytes,
            "size": self._size,
            "last_commit": self._last_commit,
            "failing": self._failing,
            # Snapshots fail (edits still reach the log while "failing" is False).
            "snapshot_failing": self._snapshot_failing,
        }

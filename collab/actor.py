"""DocumentActor: the single writer of one open document.

Everything that changes the document goes through the actor's mailbox and is
handled one message at a time by the actor's own task, which alone touches
the `pycrdt.Doc`. It fans updates out to every other subscriber, writes them
to the store in the background (debounced, with a ceiling, one write at a
time), takes snapshots, and publishes what is durably stored as its own
awareness state so that clients can show a truthful "Saved".

The actor is the mechanics (mailbox, lifecycle, the Doc, subscribers); the
policies live apart as plain bookkeeping it consults: what to save and when
(`persistence.PersistencePlan`), how to coalesce the fan-out (`outbox.Outbox`)
and who owns which awareness entry (`presence.Presence`).
"""

import asyncio
import enum
import logging
import time
from collections import deque

from pycrdt import Doc

from . import codes, edits, metrics, nesting, protocol
from .config import CollabConfig
from .messages import (
    Abandon,
    ActorStopped,
    Announce,
    ApplyUpdate,
    Edit,
    EditWritten,
    LeaseLost,
    FanOut,
    Flush,
    GetState,
    Incoming,
    Inspect,
    Join,
    Leave,
    Request,
    Shutdown,
    StateChanged,
    TakeSnapshot,
    Tick,
    Unavailable,
    WriteDone,
    state_digest,
)
from .outbox import Outbox
from .persistence import PersistencePlan, SnapshotJob, Write
from .presence import Presence, Refused
from .store import BaseStore, DocumentGone, SnapshotData, StaleOwner

logger = logging.getLogger(__name__)

# Posted by the actor's own timers and writer, or by consumers that must never
# wait (Leave): they bypass the mailbox's bound.
INTERNAL = (Tick, FanOut, WriteDone, EditWritten, Leave, Shutdown, Abandon, LeaseLost)

# y-protocols drops a remote awareness state not renewed for 30 s; renew ours well before.
AWARENESS_RENEW = 15.0


class State(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


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
        # What is unsaved and when to write it (replaced once loaded).
        self._plan = PersistencePlan(config)
        self._writer: asyncio.Task | None = None  # the write in flight
        self._flush_waiters: list[tuple[int, asyncio.Future]] = []
        self._last_commit: float | None = None
        self._idle_since = time.monotonic()
        self._renewed_at = 0.0
        self._gone = False
        self._letting_go: tuple[int, str] | None = None  # LeaseLost's close, once its last write is done
        self._last_write_sent = False
        # Updates waiting to be fanned out, and the timer that sends them.
        self._outbox = Outbox(config.fanout_interval)
        self._fanout_timer: asyncio.TimerHandle | None = None
        # The Edit whose version is being written (its change goes live once it is stored), and
        # those waiting behind it: edits run one at a time, each against the state the last one left.
        self._editing: Edit | None = None
        self._edits: deque[Edit] = deque()
        self._fanout_posted = False  # a FanOut is behind the messages that were waiting
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
        self._size = len(self._doc.get_update())
        self._plan = PersistencePlan(self._config, loaded.next_seq, self._doc.get_state())
        self._publish_saved(time.monotonic())
        self.state = State.RUNNING
        metrics.actors_started += 1
        self._settled.set()
        self._task = asyncio.create_task(self._run(), name=f"actor-{self.document_id}")
        self._reschedule()

    async def wait_settled(self) -> None:
        """Wait until the actor is not in the middle of stopping."""
        await self._settled.wait()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def persistence(self) -> PersistencePlan:
        """What is unsaved and since when (read by collab.metrics on the event loop)."""
        return self._plan

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
            case ApplyUpdate(update=update, author=author, expect=expect):
                self._answer(message, self._apply_local, update, author, expect)
            case Flush():
                self._on_flush(message)
            case GetState():
                self._answer(message, lambda: (self._doc.get_update(), self._doc.get_state()))
            case TakeSnapshot():
                self._plan.snapshot_requests.append(message)
                self._start_write(force=True)
            case Edit():
                self._edits.append(message)
                self._next_edit()
            case EditWritten():
                self._on_edit_written(message)
            case Inspect():
                self._answer(message, self.inspect)
            case Announce(notice=notice):
                self._answer(message, self._announce, notice)
            case Abandon(code, reason):
                self._abandon(code, reason)
            case LeaseLost(code, reason):
                self._on_lease_lost(code, reason)
            case Shutdown(held=None):
                for subscriber in list(self._subscribers.values()):
                    self._drop(subscriber, codes.TRY_AGAIN_LATER, "server shutting down")
                self._idle_since = float("-inf")
                self._on_tick()
            case Shutdown(held=held):
                # Unsubscribed but left open (no presence farewells: the document is going away here);
                # what they send meanwhile is ignored and resent by their resync elsewhere.
                held.extend(self._subscribers.values())
                self._subscribers.clear()
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
            metrics.refused[codes.TOO_MANY_CONNECTIONS] += 1
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

    def _apply_local(self, update: bytes, author: str, expect: bytes = b"") -> tuple[bytes, bytes]:
        if expect and state_digest(self._doc.get_update(), self._doc.get_state()) != expect:
            raise StateChanged(f"document {self.document_id} changed since the change was computed")
        with self._doc.transaction(origin="server"):
            self._doc.apply_update(update)
        self._after_change(update, author, exclude=None)
        return self._doc.get_update(), self._doc.get_state()

    def _after_change(self, update: bytes, author: str, exclude) -> None:
        self._queue_fanout(update, exclude)
        self._plan.changed(update, author, time.monotonic())
        self._size += len(update)
        self._reschedule()

    # --- fan-out ------------------------------------------------------------------------

    def _queue_fanout(self, update: bytes, exclude) -> None:
        """Send an update to every subscriber but `exclude`, coalescing bursts (see `outbox`)."""
        self._outbox.add(update, exclude)
        if self._fanout_timer is not None or self._fanout_posted:
            return
        loop = asyncio.get_running_loop()
        due = self._outbox.due
        if loop.time() < due:
            self._fanout_timer = loop.call_at(due, self.post, FanOut())
        elif self._mailbox.qsize():
            # More messages are already waiting: the updates among them go out with this one,
            # in one frame per recipient, once they are handled (no timer: the batch is what queued).
            self._fanout_posted = True
            self.post(FanOut())
        else:
            self._flush_outbox()

    def _flush_outbox(self) -> None:
        self._fanout_timer = None
        self._fanout_posted = False
        everyone, own = self._outbox.take(asyncio.get_running_loop().time())
        if everyone is None:
            return
        sent = 0
        for sid, subscriber in self._subscribers.items():
            frame = own[sid] if sid in own else everyone
            if frame is not None:
                subscriber.send(frame)
                sent += 1
        metrics.fanout_frames += sent

    def _on_client_awareness(self, subscriber, entries) -> None:
        try:
            frame = self._presence.receive(subscriber.sid, subscriber.username, entries)
        except Refused as exc:
            logger.warning("document %s: closing %s: %s", self.document_id, subscriber.sid, exc)
            self._drop(subscriber, codes.BAD_MESSAGE, str(exc))
            return
        if frame is not None:
            self._broadcast(frame, exclude=subscriber.sid)

    def _announce(self, notice: dict) -> None:
        frame = self._presence.announce(notice)
        if self._subscribers:
            self._broadcast(frame, exclude=None)

    def _publish_saved(self, now: float) -> None:
        """Our awareness entry tells clients which state is durably stored."""
        frame = self._presence.publish_saved(self._plan.durable_sv)
        self._renewed_at = now
        self._plan.saved_published(now, heard=bool(self._subscribers))
        if self._subscribers:
            self._broadcast(frame, exclude=None)

    # --- timers ------------------------------------------------------------------------

    def _next_deadline(self) -> float:
        deadlines = [self._plan.deadline()]
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
        if self._plan.saved_due(now) or (self._subscribers and now >= self._renewed_at + AWARENESS_RENEW):
            self._publish_saved(now)
        due = self._plan.due(now)
        if due is not None:
            self._start_write(snapshot=due is Write.SNAPSHOT)
        if (not self._subscribers and now >= self._idle_since + self._config.idle_timeout and self._writer is None
                and self._editing is None):
            if self._external == 0:  # nobody is about to join
                self.state = State.STOPPING
                self._settled.clear()
        self._reschedule()

    # --- edits recorded as versions ----------------------------------------------------

    def _next_edit(self) -> None:
        """Start the next waiting Edit, unless one (or another write) is in flight.

        The edit is computed here, in the actor's turn, on a copy of the live
        document, and its version (the edited state, everything received so
        far included) is stored as a snapshot before the change goes live: if
        the store refuses, nobody has seen the change and nothing is half done.
        Until then later edits wait, so that each is computed against the state
        the previous one left (two restores never insert the same blocks
        twice); clients' updates go on meanwhile and merge with it as usual.
        """
        while self._editing is None and self._writer is None and self._edits:
            request = self._edits.popleft()
            if request.reply.done():
                continue
            try:
                data, update, result = self._compute_edit(request)
            except Exception as exc:
                request.reply.set_exception(exc)
                continue
            # Through the plan, as its own snapshots: what it held unsaved is in this one.
            job = self._plan.start_snapshot(data.state, data.state_vector)
            job.data = SnapshotData(data.state, data.state_vector, job.data.last_seq,
                                    tuple(sorted({*job.data.authors, *data.authors})), data.label, data.kind)
            self._editing = request
            self._writer = asyncio.create_task(self._write_edit(request, job, update, result))

    def _compute_edit(self, request: Edit) -> tuple[SnapshotData, bytes, object]:
        if self._plan.failing or self._plan.snapshot_failing or self._gone:
            # The store is refusing writes now: the version could not be recorded.
            raise Unavailable(f"document {self.document_id}: its storage is not taking writes; nothing was changed")
        change = edits.get(request.change)
        scratch = Doc()
        scratch.apply_update(self._doc.get_update())
        state_vector = self._doc.get_state()
        result = change(scratch, *request.args)  # in a transaction of its own choosing (origins must not nest)
        data = SnapshotData(scratch.get_update(), scratch.get_state(), 0,
                            (request.author,) if request.author else (), request.label, request.kind)
        return data, scratch.get_update(state_vector), result

    async def _write_edit(self, request: Edit, job, update: bytes, result) -> None:
        try:
            version = await self._store.snapshot(self.document_id, job.data, self._fence)
        except Exception as exc:
            self.post(EditWritten(request, (job, update), result, error=exc))
        else:
            self.post(EditWritten(request, (job, update), result, version=version))

    def _on_edit_written(self, message: EditWritten) -> None:
        request, (job, update) = message.request, message.pending
        self._editing = None
        self._writer = None
        error = message.error
        if error is not None:
            if isinstance(error, DocumentGone):
                self._abandon(codes.NO_SUCH_DOCUMENT, "document deleted")
            elif isinstance(error, StaleOwner):
                self._abandon(codes.INTERNAL_ERROR, "document moved to another server")
            else:
                self._plan.failed(job, time.monotonic())  # what it held unsaved goes to the log instead
                logger.warning("document %s: an edit's version could not be stored, the edit is refused: %r",
                               self.document_id, error)
                error = Unavailable(f"document {self.document_id}: the version could not be stored "
                                    f"({type(error).__name__}); nothing was changed")
            for waiting in (request, *job.requests):
                if not waiting.reply.done():
                    waiting.reply.set_exception(error)
        else:
            self._plan.written(job)
            if job.since is not None:
                metrics.FLUSH_LAG_SECONDS.observe(time.monotonic() - job.since)
            self._last_commit = time.time()
            # Live now, to everyone; not an unsaved change: the version just stored holds it.
            with self._doc.transaction(origin="server"):
                self._doc.apply_update(update)
            self._queue_fanout(update, exclude=None)
            self._size = len(job.data.state)
            if request.notice:
                self._broadcast(self._presence.announce(request.notice), exclude=None)
            self._publish_saved(time.monotonic())
            for waiting in job.requests:
                if not waiting.reply.done():
                    waiting.reply.set_result(message.version)
            if not request.reply.done():
                request.reply.set_result({"version": message.version, "result": message.result})
        if self._letting_go is not None:
            self._let_go()
        elif not self._gone:
            self._next_edit()
            if self._editing is None and (self._flush_waiters or self._plan.snapshot_requests):
                self._start_write(force=True)
        self._reschedule()

    # --- persistence -------------------------------------------------------------------

    def _on_flush(self, request: Flush) -> None:
        if self._plan.durable >= self._plan.received:
            request.reply.set_result(None)
            return
        self._flush_waiters.append((self._plan.received, request.reply))
        self._start_write(force=True)

    def _start_write(self, snapshot: bool = False, force: bool = False) -> None:
        """Hand the next write to the writer task, unless one is in flight."""
        if self._writer is not None or self.state is State.FAILED or self._gone:
            return
        kind = self._plan.next_write(time.monotonic(), snapshot=snapshot, force=force)
        if kind is Write.SNAPSHOT:
            job = self._plan.start_snapshot(self._doc.get_update(), self._doc.get_state())
            self._size = len(job.data.state)
            coro = self._store.snapshot(self.document_id, job.data, self._fence)
        elif kind is Write.APPEND:
            job = self._plan.start_append(self._doc.get_state())
            coro = self._store.append(self.document_id, job.seq, job.update, self._fence)
        else:
            return
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
        plan = self._plan
        if error is not None:
            if isinstance(error, (DocumentGone, StaleOwner)):
                # Final for this actor: whoever waits on this snapshot gets the error, not a hang.
                for request in getattr(job, "requests", ()):
                    if not request.reply.done():
                        request.reply.set_exception(error)
            if isinstance(error, DocumentGone):
                self._abandon(codes.NO_SUCH_DOCUMENT, "document deleted")
                return
            if isinstance(error, StaleOwner):
                logger.warning("document %s: a newer owner took over; abandoning", self.document_id)
                self._abandon(codes.INTERNAL_ERROR, "document moved to another server")
                return
            # The plan keeps what was not written and says when to retry.
            started = plan.failed(job, time.monotonic())
            if isinstance(job, SnapshotJob):
                # Its callers get the error rather than waiting for a retry.
                for request in job.requests:
                    if not request.reply.done():
                        request.reply.set_exception(error)
                if started:  # once until they recover, not once per retry
                    logger.error("document %s: snapshot failed; edits still go to the update log, retrying: %r",
                                 self.document_id, error)
            elif started:  # once per outage, not once per retry
                logger.error("document %s: write failed, keeping %d unsaved bytes and retrying: %r",
                             self.document_id, plan.unsaved_bytes, error)
        else:
            failing, snapshot_failing = plan.failing, plan.snapshot_failing
            plan.written(job)
            if job.since is not None:
                metrics.FLUSH_LAG_SECONDS.observe(time.monotonic() - job.since)
            if failing:
                logger.warning("document %s: writes recovered", self.document_id)
            if snapshot_failing and not plan.snapshot_failing:
                logger.warning("document %s: snapshots recovered", self.document_id)
            self._last_commit = time.time()
            # Said at once to nobody, or at most every SAVED_INTERVAL to subscribers (the timer says the rest).
            now = time.monotonic()
            if not self._subscribers or plan.saved_due(now):
                self._publish_saved(now)
            waiting = []
            for target, reply in self._flush_waiters:
                if target <= plan.durable:
                    if not reply.done():
                        reply.set_result(None)
                else:
                    waiting.append((target, reply))
            self._flush_waiters = waiting
            if isinstance(job, SnapshotJob):
                for request in job.requests:
                    if not request.reply.done():
                        request.reply.set_result(result)
            # Chain what piled up meanwhile, if someone is waiting for it.
            if self._letting_go is None and (self._flush_waiters or plan.snapshot_requests):
                self._start_write(force=True)
        if self._letting_go is not None:
            return self._let_go()
        self._next_edit()  # an edit waits for the write in flight (see _next_edit)
        self._reschedule()

    def abandon(self, code: int, reason: str) -> None:
        """Stop without saving (the document was deleted, or another server owns it now)."""
        self.post(Abandon(code, reason))

    def lease_lost(self, code: int, reason: str) -> None:
        """Another process may own the document now: save what is unsaved once more (fenced), then stop."""
        self.post(LeaseLost(code, reason))

    def _on_lease_lost(self, code: int, reason: str) -> None:
        if self._gone or self._letting_go is not None:
            return
        self._letting_go = (code, reason)
        # No new joins meanwhile: the registry waits for the stop, then finds the document's owner.
        self.state = State.STOPPING
        self._settled.clear()
        self._let_go()

    def _let_go(self) -> None:
        """Lease lost: once no write is in flight, write what is unsaved (once, fenced), then stop.

        Called again by the write handlers while `_letting_go` is set.
        """
        if self._gone or self._writer is not None:
            return  # back here when the write in flight is done
        if not self._last_write_sent:
            self._last_write_sent = True
            self._start_write(force=True)
            if self._writer is not None:
                return
        self._abandon(*self._letting_go)

    def _abandon(self, code: int, reason: str) -> None:
        """Close every subscriber and stop without saving.

        Clients reconnect and resync with whoever serves the document next,
        resending what it lacks, so edits not yet stored here are not lost.
        """
        self._gone = True
        for subscriber in list(self._subscribers.values()):
            subscriber.close(code, reason)
        self._subscribers.clear()
        self._plan.discard()
        self._idle_since = 0.0
        self.state = State.STOPPING
        self._settled.clear()

    async def _try_stop(self) -> bool:
        """Final snapshot, then stop; back to running if it failed or someone came.

        Runs inside the actor's task while `tell` holds new messages back, so
        the only messages that can arrive meanwhile are internal ones.
        """
        await self._finish_letting_go()
        if not self._gone:
            await self._drain_writer()
            if not self._gone and self._plan.dirty:
                self._start_write(snapshot=True)
                await self._drain_writer()
            if not self._gone and self._plan.unsaved and self._plan.snapshot_failing:
                self._start_write()  # the snapshot failed: the log still takes the edits
                await self._drain_writer()
            if not self._gone and self._letting_go is None and (not self._plan.may_unload() or self._subscribers):
                # Never unload a document whose last save failed: keep it and retry.
                self.state = State.RUNNING
                self._idle_since = time.monotonic()
                self._settled.set()
                self._reschedule()
                return False
        await self._finish_letting_go()  # the lease may have been lost while it saved
        self._finish(State.STOPPED, ActorStopped(f"actor of {self.document_id} stopped"))
        return True

    async def _finish_letting_go(self) -> None:
        """If the lease is lost: wait for the last write (its handler calls _let_go), then abandon."""
        if self._letting_go is None:
            return
        while self._writer is not None and not self._gone:
            await self._drain_writer()
        if not self._gone:
            self._abandon(*self._letting_go)

    async def _drain_writer(self) -> None:
        if self._writer is not None:
            await asyncio.wait([self._writer])
        while not self._mailbox.empty():
            self._handle(self._mailbox.get_nowait())

    def _fail(self, exc: BaseException) -> None:
        metrics.actor_crashes += 1
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
        for request in [*self._plan.snapshot_requests, *self._edits, *filter(None, [self._editing])]:
            if not request.reply.done():
                request.reply.set_exception(error)
        self._edits.clear()
        self._settled.set()
        self._done.set()
        if self._on_stopped is not None:
            self._on_stopped(self)

    async def stop(self, held: list | None = None) -> None:
        """Stop now (process shutdown): close subscribers (or move them to `held`), take a final snapshot.

        Returns once stopped; if the final save fails the actor keeps the
        document and retries, and this keeps waiting (bound it with a timeout).
        """
        if self.state not in (State.RUNNING, State.STOPPING):
            return
        self.post(Shutdown(held))
        await self._done.wait()

    # --- observability -------------------------------------------------------------------

    def inspect(self) -> dict:
        return {
            "document": str(self.document_id),
            "state": self.state.value,
            "subscribers": len(self._subscribers),
            "unsaved_bytes": self._plan.unsaved_bytes,
            "size": self._size,
            "last_commit": self._last_commit,
            "failing": self._plan.failing,
            # Snapshots fail (edits still reach the log while "failing" is False).
            "snapshot_failing": self._plan.snapshot_failing,
        }

"""Cluster mode (REDIS_URL set): exactly one owner process per open document.

Ownership is a lease in Redis: `collab:lease:<doc>` holds "<owner channel>
<token>", set only if absent, with a TTL renewed while the actor lives and
deleted when it stops. The token comes from `collab:fence:<doc>`, a counter
that only grows, and the store refuses writes whose token is lower than the
highest that has written (see DjangoStore): a paused or partitioned owner that
lost its lease can never overwrite its successor's state.

A process that does not own a document forwards its sockets' frames to the
owner over the channel layer:

    client ── consumer (P) ──collab.frame_in──▶ owner process (Q) ── actor
    client ◀─ consumer (P) ◀─collab.frames─── RemoteSubscriber (Q)

Each direction numbers its messages per connection. channels-redis drops
messages silently when a channel is over capacity or a message expires
(channels_redis#181); a gap in the numbers closes that connection with 4013,
and the client resyncs on reconnect, so a drop can never leave it silently
diverged. When an owner dies its lease expires after COLLAB_LEASE_TTL; the
forwarding processes notice the lease change (checked every second) and close
their sockets with 4011, the clients reconnect, and the next join takes the
document over, loading it from the store. Clients resend what the server
lacks, so nothing acknowledged by a client is lost.
"""

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis
from channels.exceptions import ChannelFull
from redis.exceptions import RedisError

from . import codes, messages, metrics, protocol
from .messages import ActorStopped, Incoming, Leave, StateChanged, Unavailable
from .store import DocumentGone, StaleOwner
from .subscriber import QueuedSubscriber, SendFailed

logger = logging.getLogger(__name__)

LEASE_KEY = "collab:lease:{}"
FENCE_KEY = "collab:fence:{}"
# The token of the document's last lease that was released (not left to expire): an acquisition
# whose previous token is not this one is a takeover (for metrics). One small key per document, as the fence.
RELEASED_KEY = "collab:released:{}"
PROCESS_KEY = "collab:process:{}"
PROCESS_PATTERN = "collab:process:*"
# Every process's channel: told of access changes (collab.live.access_changed) and of events for
# users' feeds (collab.live.tell_users), once per process.
ACCESS_GROUP = "collab.access"
ACCESS_GROUP_REFRESH = 60.0

# Set the lease if absent and give it the next fencing token, atomically; also say whether the
# previous lease (token - 1) ended without a release: {token, 1 if taken over else 0}.
_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. token, 'PX', ARGV[2])
local released = tonumber(redis.call('GET', KEYS[3]) or '0')
if token > 1 and released ~= token - 1 then return {token, 1} end
return {token, 0}
"""
# Renew every lease of this process that is still ours, in one round trip: KEYS are the leases,
# ARGV[1] the TTL in ms, ARGV[i + 1] lease i's value; 1 per lease renewed, 0 per lease lost.
_RENEW_ALL = """
local renewed = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    renewed[i] = redis.call('PEXPIRE', key, ARGV[1])
  else
    renewed[i] = 0
  end
end
return renewed
"""
# Release only a lease that is still ours, noting its token (see RELEASED_KEY).
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], string.match(ARGV[1], '%d+$'))
return redis.call('DEL', KEYS[1])
"""

# How often owners of forwarded documents and subscribers' processes are re-checked.
WATCH_INTERVAL = 1.0
# Leases are renewed this many times per TTL, by a thread of their own (LeaseRenewer).
RENEWALS_PER_TTL = 5
# How long a forwarding process waits for the owner to answer a join.
JOIN_TIMEOUT = 5.0
# How long a forwarding process waits for the owner to answer a request.
REQUEST_TIMEOUT = 10.0
# Taking a lease gives up (Unavailable) after this long (Redis unreachable or slow)
# or after this many rounds of the lease changing hands between two calls.
ACQUIRE_TIMEOUT = 5.0
# The process's own Redis connections (leases, heartbeats, upkeep). redis-py's default pool refuses
# a call beyond its 100th connection in use (MaxConnectionsError): a cold start that takes 400 leases
# at once, or a SIGTERM that releases them, failed a quarter of them (editors closed with 4011, leases
# left to expire). A blocking pool makes calls beyond it wait their turn instead.
REDIS_CONNECTIONS = 32
REDIS_CONNECTION_WAIT = 20.0
# Channel-layer sends in flight per process (forwarded frames, joins, replies). channels-redis holds
# one of its pool's Redis connections per send, and that pool refuses calls beyond the 100th the same
# way: 300 sockets forwarded at once had two thirds of theirs refused (closed with 1011/4011). Beyond
# this many, sends wait their turn; the layer's receive loop and group calls keep connections free.
LAYER_SENDS = 32
ACQUIRE_ATTEMPTS = 5
# How long the process channel may fail to receive before the requests and forwarded
# connections waiting on it are failed (they would otherwise wait on silence).
RECEIVE_OUTAGE_LIMIT = 5.0


class NotOwner(Exception):
    """Another process holds the document's lease."""

    def __init__(self, owner_channel: str):
        super().__init__(owner_channel)
        self.owner_channel = owner_channel


class RemoteError(Exception):
    """The owner process failed a request with an exception whose type may not travel (see ERRORS)."""

    def __init__(self, type_name: str, message: str):
        super().__init__(f"the document's server failed with {type_name}: {message}")
        self.type_name = type_name
        self.message = message


# Exception classes that travel from the owner process to the asker and are raised
# there as themselves: what a local caller of the actor could get, so that callers
# handle one set of errors wherever the actor lives. Looked up by exact class name in
# this table only: nothing from the wire is ever imported or unpickled. Any other type
# arrives as RemoteError naming it.
ERRORS: dict[str, type[Exception]] = {cls.__name__: cls for cls in (
    ActorStopped,  # the owner's actor stopped meanwhile: the asker retries like a local caller
    Unavailable,  # the owner could not reach its actor within its bound
    StateChanged,  # a conditional change found the document changed
    DocumentGone,  # the document was deleted
    StaleOwner,  # a newer owner claimed the document
    NotOwner,  # the owner lost the document meanwhile
    protocol.ProtocolError,  # a malformed message
    ValueError,  # invalid input, e.g. an update pycrdt cannot decode
    TypeError,
)}


def encode_error(exc: BaseException) -> dict:
    """An exception as plain data for the channel layer: its class name and string arguments."""
    return {"type": type(exc).__name__, "args": [str(arg) for arg in exc.args], "message": str(exc)}


def decode_error(error: dict) -> Exception:
    """The exception to raise on the asking side: the same class if allowed, else RemoteError."""
    cls = ERRORS.get(error.get("type"))
    if cls is not None:
        try:
            return cls(*error.get("args", ()))
        except Exception:  # a constructor that does not take its own args back: say so, not crash
            pass
    return RemoteError(str(error.get("type")), str(error.get("message")))


class _Outage:
    """A dependency failing: logged once when it starts and once when it recovers, not per retry."""

    def __init__(self, what: str):
        self.what = what
        self.since: float | None = None

    def failed(self, exc: BaseException) -> float:
        """Note a failure; returns how long the outage has lasted."""
        now = time.monotonic()
        if self.since is None:
            self.since = now
            logger.error("cluster: %s failed; retrying (logged once until it recovers): %r", self.what, exc)
        return now - self.since

    def recovered(self) -> None:
        if self.since is not None:
            logger.warning("cluster: %s recovered after %.1f s", self.what, time.monotonic() - self.since)
            self.since = None


@dataclass
class Lease:
    # The document it is for.
    document_id: str
    # Fencing token: strictly greater than every earlier lease's of the document.
    token: int
    # The Redis value, "<channel> <token>", compared on renew and release.
    value: str


# Request classes that may travel between processes, by name.
_REQUESTS = {cls.__name__: cls for cls in (messages.GetState, messages.ApplyUpdate, messages.TakeSnapshot,
                                          messages.Edit, messages.Flush, messages.Inspect, messages.Announce)}


class Cluster:
    def __init__(self, redis_url: str, layer, lease_ttl: float):
        self.redis = aioredis.Redis.from_pool(aioredis.BlockingConnectionPool.from_url(
            redis_url, socket_timeout=None, max_connections=REDIS_CONNECTIONS, timeout=REDIS_CONNECTION_WAIT))
        self.redis_url = redis_url
        self.layer = layer
        self.lease_ttl = lease_ttl
        self.channel: str | None = None
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.registry = None
        self.leases: dict[str, Lease] = {}
        # Owner side: connections of other processes subscribed to our actors.
        self.remote_subscribers: dict[str, "RemoteSubscriber"] = {}
        # Forwarding side: our connections to documents owned elsewhere.
        self.remote_actors: set["RemoteActor"] = set()
        self._pending: dict[str, asyncio.Future] = {}
        self._tasks: list[asyncio.Task] = []
        self._redis_outage = _Outage("Redis (leases)")
        self._renewer: LeaseRenewer | None = None
        self._started = asyncio.Lock()
        self._sends = asyncio.Semaphore(LAYER_SENDS)
        self._in_access_group = -ACCESS_GROUP_REFRESH

    async def start(self, registry) -> None:
        async with self._started:
            if self.channel is not None:
                return
            self.registry = registry
            # The default prefix: channels-redis pops every process-local channel
            # through one shared receive loop that only reads that prefix.
            self.channel = await self.layer.new_channel()
            await self._heartbeat()
            self._renewer = LeaseRenewer(self, self.redis_url)
            self._renewer.start()
            self._tasks = [asyncio.create_task(self._receive(), name="collab-cluster-receive"),
                           asyncio.create_task(self._watch(), name="collab-cluster-watch")]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._renewer is not None:
            self._renewer.stop()
        with contextlib.suppress(Exception):
            await self.redis.delete(PROCESS_KEY.format(self.channel))

    async def send(self, channel: str, message: dict) -> None:
        """Send through the channel layer, at most LAYER_SENDS at a time."""
        async with self._sends:
            await self.layer.send(channel, message)

    # --- leases -------------------------------------------------------------------------

    async def acquire(self, document_id) -> Lease:
        """Take the document's lease, or raise NotOwner naming the holder's channel.

        Raises Unavailable if Redis does not answer within ACQUIRE_TIMEOUT.
        """
        key = str(document_id)
        try:
            async with asyncio.timeout(ACQUIRE_TIMEOUT):
                for _ in range(ACQUIRE_ATTEMPTS):
                    acquired = await self.redis.eval(_ACQUIRE, 3, LEASE_KEY.format(key), FENCE_KEY.format(key),
                                                     RELEASED_KEY.format(key), self.channel,
                                                     int(self.lease_ttl * 1000))
                    if acquired is not None:
                        self._redis_outage.recovered()
                        token, taken_over = int(acquired[0]), bool(acquired[1])
                        metrics.lease_acquisitions += 1
                        metrics.lease_takeovers += taken_over
                        lease = Lease(key, token, f"{self.channel} {token}")
                        self.leases[key] = lease
                        return lease
                    value = await self.lease_value(key)
                    self._redis_outage.recovered()
                    holder = value.split(" ")[0] if value else None
                    if holder == self.channel:
                        # Ours, from an actor of this process that has stopped (the registry spawns only
                        # when it has none) and whose release has not run yet: release it now rather
                        # than forward our own clients to ourselves (they would be closed with 4011
                        # as soon as the release lands).
                        if self.leases.get(key) is not None and self.leases[key].value == value:
                            del self.leases[key]
                        await self.redis.eval(_RELEASE, 2, LEASE_KEY.format(key), RELEASED_KEY.format(key), value)
                        continue
                    if holder is not None:
                        raise NotOwner(holder)
                    # Expired between the two calls: try again.
        except (RedisError, OSError, TimeoutError) as exc:
            self._redis_outage.failed(exc)
            raise Unavailable(f"document {key}: Redis did not answer, so no server can take the document "
                              f"({exc!r})") from exc
        raise Unavailable(f"document {key}: its lease changed hands {ACQUIRE_ATTEMPTS} times in a row")

    async def owner(self, document_id) -> str | None:
        value = await self.redis.get(LEASE_KEY.format(document_id))
        return value.decode().split(" ")[0] if value else None

    async def lease_value(self, document_id) -> str | None:
        value = await self.redis.get(LEASE_KEY.format(document_id))
        return value.decode() if value else None

    async def release(self, lease: Lease) -> None:
        if self.leases.get(lease.document_id) is lease:
            del self.leases[lease.document_id]
        try:
            await self.redis.eval(_RELEASE, 2, LEASE_KEY.format(lease.document_id),
                                  RELEASED_KEY.format(lease.document_id), lease.value)
        except (RedisError, OSError) as exc:
            self._redis_outage.failed(exc)  # the lease expires on its own after its TTL

    # --- forwarding side ------------------------------------------------------------------

    async def join_remote(self, document_id, connection, consumer_channel: str, owner_channel: str) -> "RemoteActor":
        lease_value = await self.lease_value(document_id)
        remote = RemoteActor(self, str(document_id), connection, consumer_channel, owner_channel, lease_value)
        self.remote_actors.add(remote)
        await self.send(owner_channel, {
            "type": "collab.join", "document": str(document_id), "sid": consumer_channel, "process": self.channel,
            "username": connection.username, "can_write": connection.can_write,
        })
        return remote

    async def ask_remote(self, owner_channel: str, document_id, request, timeout: float = REQUEST_TIMEOUT):
        """Ask the owner process's actor; its errors are raised here as the same classes (see ERRORS).

        Raises Unavailable if the owner does not answer within `timeout`.
        """
        rid = uuid.uuid4().hex
        future = self._pending[rid] = asyncio.get_running_loop().create_future()
        fields = {k: getattr(request, k) for k in request.__dataclass_fields__ if k != "reply"}
        try:
            await self.send(owner_channel, {"type": "collab.request", "document": str(document_id), "rid": rid,
                                                  "kind": type(request).__name__, "fields": fields,
                                                  "reply_to": self.channel})
            return await asyncio.wait_for(future, timeout)
        except TimeoutError as exc:
            raise Unavailable(f"document {document_id}: its server did not answer within {timeout:g} s") from exc
        except (RedisError, OSError, ChannelFull) as exc:
            raise Unavailable(f"document {document_id}: could not reach its server ({exc!r})") from exc
        finally:
            self._pending.pop(rid, None)

    # --- the process channel ----------------------------------------------------------------

    async def _receive(self) -> None:
        # The process's only inbox: it retries for as long as the process lives, but past
        # RECEIVE_OUTAGE_LIMIT those waiting on it are failed rather than left waiting.
        outage = _Outage("receiving on the process channel")
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if outage.failed(exc) >= RECEIVE_OUTAGE_LIMIT:
                    self._fail_waiters(Unavailable("this server lost contact with the others (channel layer)"))
                await asyncio.sleep(1)
                continue
            outage.recovered()
            try:
                await self._dispatch(message)
            except Exception:
                logger.exception("cluster: could not handle %s", message.get("type"))

    async def _dispatch(self, message: dict) -> None:
        kind = message["type"]
        if kind == "collab.frame_in":
            subscriber = self.remote_subscribers.get(message["sid"])
            if subscriber is not None:
                await subscriber.receive(message)
        elif kind == "collab.join":
            await self._on_join(message)
        elif kind == "collab.leave":
            subscriber = self.remote_subscribers.get(message["sid"])
            if subscriber is not None:
                subscriber.stop()
        elif kind == "collab.request":
            asyncio.create_task(self._on_request(message))
        elif kind == "collab.access_changed":
            from .access import changed_here

            changed_here(message["user_id"], message.get("ended_session"))
        elif kind == "collab.tell_users":
            from .feed import deliver_here

            deliver_here(message["users"], message["event"])
        elif kind == "collab.reply":
            future = self._pending.get(message["rid"])
            if future is not None and not future.done():
                if message["ok"]:
                    future.set_result(message["result"])
                else:
                    future.set_exception(decode_error(message["error"]))

    def _fail_waiters(self, error: Exception) -> None:
        """Fail the requests awaiting replies and close the forwarded connections (they resync later)."""
        for future in list(self._pending.values()):
            if not future.done():
                future.set_exception(error)
        for remote in list(self.remote_actors):
            remote.lost(f"{error}, reconnect", codes.TRY_AGAIN_LATER)

    async def _on_join(self, message: dict) -> None:
        subscriber = RemoteSubscriber(self, message)
        try:
            actor = await self.registry.join_local(message["document"], subscriber)
        except NotOwner:
            await self.send(subscriber.sid, {"type": "collab.close", "code": codes.INTERNAL_ERROR,
                                             "reason": "owner moved, reconnect"})
            return
        except DocumentGone:  # deleted since the forwarding process checked access: as a local join would be
            await self.send(subscriber.sid, {"type": "collab.close", "code": codes.NO_SUCH_DOCUMENT,
                                             "reason": "no such document"})
            return
        except Unavailable:  # already logged where it gave up
            await self.send(subscriber.sid, {"type": "collab.close", "code": codes.INTERNAL_ERROR,
                                             "reason": "document unavailable, try again"})
            return
        except Exception:
            logger.exception("cluster: join of %s failed", message["document"])
            await self.send(subscriber.sid, {"type": "collab.close", "code": codes.INTERNAL_ERROR,
                                             "reason": "document unavailable"})
            return
        subscriber.actor = actor
        self.remote_subscribers[subscriber.sid] = subscriber

    async def _on_request(self, message: dict) -> None:
        reply = {"type": "collab.reply", "rid": message["rid"]}
        try:
            request = _REQUESTS[message["kind"]](**message["fields"])
            actor = await self.registry.get_owned(message["document"])
            if actor is None:
                raise ActorStopped("the document is not open here any more")
            result = await actor.ask(request)
            reply.update(ok=True, result=result)
        except Exception as exc:
            if type(exc).__name__ not in ERRORS:
                logger.error("cluster: a request for %s failed", message["document"], exc_info=exc)
            reply.update(ok=False, error=encode_error(exc))
        await self.send(message["reply_to"], reply)

    # --- upkeep ------------------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        if time.monotonic() - self._in_access_group >= ACCESS_GROUP_REFRESH:
            # Again now and then: channels-redis expires group members, and Redis may have restarted empty.
            await self.layer.group_add(ACCESS_GROUP, self.channel)
            self._in_access_group = time.monotonic()
        report = {"name": self.name, "channel": self.channel, "at": time.time(), "actors": []}
        for actor in self.registry.actors():
            report["actors"].append(actor.inspect())
        await self.redis.set(PROCESS_KEY.format(self.channel), json.dumps(report),
                             px=int(max(self.lease_ttl, 3 * WATCH_INTERVAL) * 1000))

    async def _watch(self) -> None:
        outage = _Outage("cluster upkeep")
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            if self._renewer is not None:
                if self._renewer.failing_for() >= self.lease_ttl:
                    # Past the lease TTL without renewing, our leases may have expired and another
                    # process may own our documents: stop serving them (the store's fencing would
                    # refuse our writes anyway), and fail whoever waits on other processes.
                    self._lose_leases("this server lost contact with Redis, reconnect")
                    self._fail_waiters(Unavailable("this server lost contact with the others (Redis)"))
            try:
                await self._watch_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The same bound when the loop's own Redis calls fail (its check of the leases included).
                if outage.failed(exc) >= self.lease_ttl and isinstance(exc, (RedisError, OSError)):
                    self._lose_leases("this server lost contact with Redis, reconnect")
                    self._fail_waiters(Unavailable("this server lost contact with the others (Redis)"))
            else:
                outage.recovered()

    def lease_lost(self, lease: Lease) -> None:
        """The lease is gone or another's: our actor must not serve any more (its last write meets the fence)."""
        if self.leases.get(lease.document_id) is not lease:
            return  # released or replaced meanwhile
        logger.warning("cluster: lost the lease of %s; its actor saves what it holds (fenced) and stops",
                       lease.document_id)
        del self.leases[lease.document_id]
        metrics.leases_lost += 1
        actor = self.registry.get_running(lease.document_id)
        if actor is not None:
            actor.lease_lost(codes.INTERNAL_ERROR, "document moved to another server")

    def _lose_leases(self, reason: str) -> None:
        for lease in list(self.leases.values()):
            del self.leases[lease.document_id]
            metrics.leases_lost += 1
            actor = self.registry.get_running(lease.document_id)
            if actor is not None:
                actor.lease_lost(codes.INTERNAL_ERROR, reason)

    async def _watch_once(self) -> None:
        await self._heartbeat()
        # Leases lost meanwhile (the renewer keeps them alive; this notices one that is gone or another's).
        leases = list(self.leases.values())
        if leases:
            renewed = await self.redis.eval(_RENEW_ALL, len(leases), *(LEASE_KEY.format(x.document_id) for x in leases),
                                            int(self.lease_ttl * 1000), *(x.value for x in leases))
            for lease, ok in zip(leases, renewed):
                if not ok:
                    self.lease_lost(lease)
        # Forwarded documents whose owner changed or vanished: reconnect their clients (one round trip).
        remotes = list(self.remote_actors)
        documents = sorted({remote.document_id for remote in remotes})
        if documents:
            raw = await self.redis.mget([LEASE_KEY.format(d) for d in documents])
            values = {d: v.decode() if v else None for d, v in zip(documents, raw)}
            for remote in remotes:
                if values[remote.document_id] != remote.lease_value:
                    remote.lost("the document's server changed, reconnect")
        # Subscribers from processes that died.
        alive: dict[str, bool] = {}
        for sid, subscriber in list(self.remote_subscribers.items()):
            if subscriber.process not in alive:
                alive[subscriber.process] = bool(await self.redis.exists(PROCESS_KEY.format(subscriber.process)))
            if not alive[subscriber.process]:
                subscriber.stop()

    async def cluster_report(self) -> list[dict]:
        """Every process's report of its live actors (for observability)."""
        reports = []
        async for key in self.redis.scan_iter(match=PROCESS_PATTERN):
            raw = await self.redis.get(key)
            if raw:
                reports.append(json.loads(raw))
        return reports


class LeaseRenewer:
    """Renews every lease of the process, RENEWALS_PER_TTL times per TTL, from a thread of its own.

    Renewals used to run on the event loop, one Redis round trip per lease after
    the rest of the upkeep: under overload each await waited out a busy loop
    iteration, a round took longer than the TTL, and leases expired under live
    actors (302 takeovers between 2 processes in bench scale-out). Here one Lua
    script renews them all in one round trip, on a schedule the loop cannot
    delay. It renews only while the loop shows life (Cluster._watch sets
    `loop_seen`) within a TTL: a loop stalled by heavy work for less than that
    keeps its documents, a hung one lets them go to another process (after at
    most twice the TTL), and fencing keeps writes correct either way. Finding a
    lease lost is left to the loop (Cluster._watch_once, in its turn).
    """

    def __init__(self, cluster: "Cluster", redis_url: str):
        import redis

        self.cluster = cluster
        self.interval = cluster.lease_ttl / RENEWALS_PER_TTL
        timeout = max(self.interval, 0.5)
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self.script = self.redis.register_script(_RENEW_ALL)
        self.loop_seen = time.monotonic()
        self._failing_since: float | None = None  # when rounds began to fail (Redis down or slow)
        self._outage = _Outage("Redis (lease renewal)")
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="collab-lease-renewer", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._seen()

    def _seen(self) -> None:
        # A plain callback, not a task with awaits: it runs as soon as the loop takes a turn.
        if not self._stopped.is_set():
            self.loop_seen = time.monotonic()
            asyncio.get_running_loop().call_later(self.interval, self._seen)

    def stop(self) -> None:
        self._stopped.set()

    def failing_for(self) -> float:
        """Seconds since rounds began to fail (0 while they succeed, or are held back for a stalled loop)."""
        since = self._failing_since
        return 0.0 if since is None else time.monotonic() - since

    def _run(self) -> None:
        next_round = time.monotonic()
        while not self._stopped.is_set():
            if time.monotonic() - self.loop_seen <= self.cluster.lease_ttl:
                self.renew_once()
            next_round += self.interval
            self._stopped.wait(max(0.0, next_round - time.monotonic()))
            next_round = max(next_round, time.monotonic() - self.interval)  # no burst after a long pause
        self.redis.close()

    def renew_once(self) -> None:
        leases = list(self.cluster.leases.values())  # a copy; the loop adds and removes meanwhile
        try:
            if leases:
                self.script(keys=[LEASE_KEY.format(lease.document_id) for lease in leases],
                            args=[int(self.cluster.lease_ttl * 1000), *(lease.value for lease in leases)])
        except Exception as exc:  # Redis down or slow: Cluster._watch acts once it has lasted a TTL
            self._outage.failed(exc)
            if self._failing_since is None:
                self._failing_since = time.monotonic()
            return
        self._outage.recovered()
        self._failing_since = None
        # A lease found lost is left to the loop's own check (Cluster._watch_once): its actor writes what
        # it holds once more, with its fence, and stops (LeaseLost); the store refuses it if a newer owner wrote.


class RemoteSubscriber(QueuedSubscriber):
    """On the owner: a connection of another process, as a Subscriber of the local actor."""

    def __init__(self, cluster: Cluster, join: dict):
        super().__init__(sid=join["sid"],  # the remote consumer's channel
                         username=join["username"], can_write=join["can_write"],
                         queue_limit=cluster.registry.config.send_queue_limit,
                         buffer_bytes=cluster.registry.config.send_buffer_bytes)
        self.cluster = cluster
        self.process = join["process"]  # the remote process's channel (for liveness)
        self.actor = None
        self._expected_in = 0
        self._out_seq = 0

    async def _deliver(self, frames: list[bytes]) -> None:
        # One channel-layer message per batch: fewer Redis round trips. A batch of any size
        # the server sends (a whole document's sync step 2, up to COLLAB_MAX_DOCUMENT_SIZE)
        # fits: msgpack and Redis take values up to 4 GiB and 512 MB, channels-redis has no
        # size limit of its own. A batch that cannot be sent closes the connection (base class).
        try:
            await self.cluster.send(self.sid, {"type": "collab.frames", "frames": frames, "n": self._out_seq})
        except ChannelFull as exc:
            raise SendFailed(codes.TRY_AGAIN_LATER, "the connection's server is not keeping up, reconnect") from exc
        self._out_seq += 1

    async def _close_peer(self, code: int, reason: str) -> None:
        await self.cluster.send(self.sid, {"type": "collab.close", "code": code, "reason": reason})

    def stop(self) -> None:
        """Stop serving it (it left, its process died, or it was closed)."""
        if self.actor is not None and not self.closed:
            self.actor.post(Leave(self))
        self.cluster.remote_subscribers.pop(self.sid, None)
        super().stop()

    async def receive(self, message: dict) -> None:
        if self.closed:
            return
        if message["n"] != self._expected_in:
            return self.close(codes.TRY_AGAIN_LATER, "lost messages between servers, reconnect")
        self._expected_in += 1
        try:
            await self.actor.tell(Incoming(self, protocol.decode(message["frame"])))
        except ActorStopped:
            self.close(codes.INTERNAL_ERROR, "document restarted, reconnect")


class RemoteActor:
    """On a forwarding process: the owner's actor, as one local connection sees it."""

    def __init__(self, cluster, document_id, connection, consumer_channel, owner_channel, lease_value):
        self.cluster = cluster
        self.document_id = document_id
        self.connection = connection
        self.sid = consumer_channel
        self.owner_channel = owner_channel
        self.lease_value = lease_value
        self._out_seq = 0
        self._expected = 0
        self._answered = asyncio.Event()
        self._send_lock = asyncio.Lock()
        asyncio.get_running_loop().create_task(self._expect_answer())

    async def _expect_answer(self) -> None:
        try:
            await asyncio.wait_for(self._answered.wait(), JOIN_TIMEOUT)
        except TimeoutError:
            self.lost("the document's server did not answer, reconnect")

    async def tell(self, message) -> None:
        if not isinstance(message, Incoming):
            raise TypeError(f"expected Incoming, got {type(message).__name__}")
        async with self._send_lock:  # keep frames in order
            n = self._out_seq
            self._out_seq += 1
            await self.cluster.send(self.owner_channel, {
                "type": "collab.frame_in", "sid": self.sid, "n": n, "frame": protocol.encode(message.message)})

    def post(self, message) -> None:
        if isinstance(message, Leave):
            self.cluster.remote_actors.discard(self)
            asyncio.get_running_loop().create_task(
                self.cluster.send(self.owner_channel, {"type": "collab.leave", "sid": self.sid}))

    def deliver(self, event: dict) -> None:
        """Frames the owner sent to this connection."""
        self._answered.set()
        if event["n"] != self._expected:
            return self.lost("lost messages between servers, reconnect", codes.TRY_AGAIN_LATER)
        self._expected += 1
        for frame in event["frames"]:
            self.connection.send(frame)

    def lost(self, reason: str, code: int = codes.INTERNAL_ERROR) -> None:
        logger.info("document %s: closing a forwarded connection: %s", self.document_id, reason)
        self._answered.set()
        self.post(Leave(self.connection))
        self.connection.close(code, reason)

"""Finds or spawns the actor of a document, and supervises it.

One registry per process (per event loop). Concurrent joins of a document
that is loading share the one load; an actor that is stopping is waited for
and then replaced; an actor that failed is dropped, and the next use spawns a
fresh one from the store (its subscribers were closed and resync on
reconnect).
"""

import asyncio
import logging

from . import codes
from .actor import DocumentActor, State
from .config import CollabConfig
from .messages import ActorStopped, Join, Unavailable
from .store import BaseStore, store_from_config

logger = logging.getLogger(__name__)

# How many times a caller follows a document's actor as it stops and is replaced before
# giving up with Unavailable. One stop in the middle of a request is normal (an idle
# stop, a failover); several in a row mean the document cannot stay open.
ATTEMPTS = 5
# At shutdown, sockets are closed once their documents are saved and released, or after this many
# seconds if saving takes longer (the save goes on; their clients reconnect elsewhere meanwhile).
HANDOVER_TIMEOUT = 10.0


class Registry:
    def __init__(self, store: BaseStore, config: CollabConfig, cluster=None):
        self.store = store
        self.config = config
        # collab.cluster.Cluster when several processes share the documents, else None.
        self.cluster = cluster
        self._actors: dict[str, DocumentActor] = {}
        self._loading: dict[str, asyncio.Future] = {}
        self.closing = False  # set by stop_all: the process is shutting down
        self._releasing: set[asyncio.Task] = set()  # lease releases of stopped actors, under way

    def actors(self) -> list[DocumentActor]:
        return list(self._actors.values())

    def get_running(self, document_id) -> DocumentActor | None:
        actor = self._actors.get(str(document_id))
        return actor if actor is not None and actor.state is State.RUNNING else None

    async def get(self, document_id) -> DocumentActor:
        """The running actor of a document, spawned (loaded from the store) if need be.

        Raises Unavailable if its actors keep stopping before it could be used.
        """
        key = str(document_id)
        for _ in range(ATTEMPTS):
            actor = self._actors.get(key)
            if actor is None:
                if self.closing:
                    raise Unavailable("this process is shutting down; try again")
                actor = await self._spawn(key, document_id)
            if actor.state is State.RUNNING:
                return actor
            if actor.state is State.STOPPING:
                await actor.wait_settled()
            elif self._actors.get(key) is actor:
                del self._actors[key]
        raise self._gave_up(key, "its actor stopped each time it was opened")

    async def get_owned(self, document_id) -> DocumentActor | None:
        """The running actor of a document, waiting for one this process is loading; None if none.

        For requests forwarded by other processes: never spawns (they only come
        here because this process held the lease).
        """
        loading = self._loading.get(str(document_id))
        if loading is not None:
            await asyncio.shield(loading)
        return self.get_running(document_id)

    def _gave_up(self, key: str, why: str) -> Unavailable:
        # Once per request that gives up, after ATTEMPTS silent retries.
        logger.warning("document %s: giving up after %d attempts: %s", key, ATTEMPTS, why)
        return Unavailable(f"document {key} is unavailable: {why}; try again later")

    async def _spawn(self, key, document_id) -> DocumentActor:
        loading = self._loading.get(key)
        if loading is not None:
            return await asyncio.shield(loading)
        loading = self._loading[key] = asyncio.get_running_loop().create_future()
        lease = None
        try:
            if self.cluster is not None:
                # Raises NotOwner if another process holds the document.
                lease = await self.cluster.acquire(key)
            actor = DocumentActor(document_id, self.store, self.config, on_stopped=self._on_stopped, lease=lease)
            await actor.start()
        except BaseException as exc:
            if lease is not None:
                await self.cluster.release(lease)
            loading.set_exception(exc)
            loading.exception()  # retrieved: the waiters (if any) re-raise it
            raise
        finally:
            del self._loading[key]
        self._actors[key] = actor
        loading.set_result(actor)
        return actor

    def _on_stopped(self, actor: DocumentActor) -> None:
        key = str(actor.document_id)
        if self._actors.get(key) is actor:
            del self._actors[key]
        if actor.lease is not None:
            # Released at once so that another process can take over without waiting for the TTL.
            task = asyncio.get_running_loop().create_task(self.cluster.release(actor.lease))
            self._releasing.add(task)
            task.add_done_callback(self._releasing.discard)
        if actor.state is State.FAILED:
            logger.warning("document %s: actor failed; the next use restarts it from the store", key)

    async def join(self, document_id, subscriber, channel: str | None = None):
        """Subscribe to a document wherever its actor lives.

        Returns the local actor, or in a cluster, if another process owns the
        document, a RemoteActor forwarding through `channel` (the consumer's
        channel-layer name). Either way: `tell(Incoming)` and `post(Leave)`.
        """
        from .cluster import NotOwner

        try:
            return await self.join_local(document_id, subscriber)
        except NotOwner as exc:
            return await self.cluster.join_remote(document_id, subscriber, channel, exc.owner_channel)

    async def join_local(self, document_id, subscriber) -> DocumentActor:
        """Subscribe to the actor of this process, retrying (a bounded number of times) if it stops meanwhile."""
        for _ in range(ATTEMPTS):
            actor = await self.get(document_id)
            try:
                await actor.ask(Join(subscriber=subscriber))
                return actor
            except ActorStopped:
                continue
        raise self._gave_up(str(document_id), "its actor stopped each time a connection joined")

    async def ask(self, document_id, request):
        """Send a request to the document's actor (spawned if need be, wherever it lives).

        An actor that stops meanwhile, here or on the owner process, is followed to its
        successor (which may be on another process), a bounded number of times: the
        caller gets the same errors wherever the actor lives (DocumentGone for a deleted
        document), or Unavailable.
        """
        from .cluster import NotOwner

        for attempt in range(ATTEMPTS):
            if attempt > 1:
                await asyncio.sleep(0.05 * 2 ** attempt)  # let a stopping owner release its lease
            try:
                actor = await self.get(document_id)
            except NotOwner as exc:
                try:
                    return await self.cluster.ask_remote(exc.owner_channel, document_id, request)
                except (ActorStopped, NotOwner):
                    continue  # the owner's actor stopped, or it lost the document, meanwhile
            try:
                return await actor.ask(request)
            except ActorStopped:
                if actor.state is State.FAILED:
                    raise
                continue
        raise self._gave_up(str(document_id), "its actor stopped each time it was asked")

    async def ask_if_open(self, document_id, request):
        """Like ask, but only if the document is open somewhere; None otherwise."""
        actor = self.get_running(document_id)
        if actor is not None:
            try:
                return await actor.ask(request)
            except ActorStopped:
                return None  # it stopped meanwhile, after saving everything
        if self.cluster is not None:
            owner = await self.cluster.owner(document_id)
            if owner is not None and owner != self.cluster.channel:
                try:
                    return await self.cluster.ask_remote(owner, document_id, request)
                except ActorStopped:
                    return None
        return None

    async def stop_all(self, handover_timeout: float = HANDOVER_TIMEOUT) -> None:
        """Hand every document over (process shutdown): final snapshot, lease released, then sockets closed.

        The order is the point. Each actor unsubscribes its sockets without
        closing them, saves, stops and releases its lease; only then are the
        sockets closed with 4013 ("try again"), so a client's reconnect (through
        the proxy, to another process) finds the document free to take at once.
        Closed first, clients reached a process that saw the lease still held,
        were forwarded back here and refused until the release. If saving takes
        longer than `handover_timeout`, the sockets are closed anyway.

        From here on no actor starts in this process (`get` refuses): a socket that
        reaches it while it shuts down is closed with "try again" and reconnects
        elsewhere, instead of taking a just-released lease into a process about to
        exit (its clients would then wait out the lease's TTL).
        """
        self.closing = True
        held: list = []
        stopping = asyncio.ensure_future(self._stop_actors(held))
        await asyncio.wait([stopping], timeout=handover_timeout)
        await asyncio.gather(*self._releasing, return_exceptions=True)
        closes = [_close(subscriber, codes.TRY_AGAIN_LATER, "server shutting down, reconnect") for subscriber in held]
        if self.cluster is not None:
            # Sockets forwarded from here to other processes' documents: reconnect elsewhere too.
            for remote in list(self.cluster.remote_actors):
                remote.lost("server shutting down, reconnect", codes.TRY_AGAIN_LATER)
        await asyncio.gather(*closes, return_exceptions=True)
        await stopping
        if self.cluster is not None:
            await asyncio.gather(*self._releasing, return_exceptions=True)
            for lease in list(self.cluster.leases.values()):
                await self.cluster.release(lease)
            await self.cluster.close()

    async def _stop_actors(self, held: list) -> None:
        for _ in range(ATTEMPTS):  # actors that were loading when the shutdown began stop too
            await asyncio.gather(*(asyncio.shield(f) for f in list(self._loading.values())), return_exceptions=True)
            if not self._actors:
                break
            await asyncio.gather(*(actor.stop(held) for actor in self.actors()), return_exceptions=True)


async def _close(subscriber, code: int, reason: str) -> None:
    """Close a subscriber, waiting until the close is sent if it can say when (QueuedSubscriber.aclose)."""
    aclose = getattr(subscriber, "aclose", None)
    if aclose is not None:
        await aclose(code, reason)
    else:
        subscriber.close(code, reason)


_registry: Registry | None = None
_registry_loop = None


async def get_registry() -> Registry:
    """The registry of this process, made on first use in the running event loop."""
    global _registry, _registry_loop
    loop = asyncio.get_running_loop()
    if _registry is None or _registry_loop is not loop:
        config = CollabConfig.from_settings()
        cluster = None
        if config.redis_url:
            from channels.layers import get_channel_layer

            from .cluster import Cluster

            cluster = Cluster(config.redis_url, get_channel_layer(), config.lease_ttl)
        _registry = Registry(store_from_config(config), config, cluster)
        _registry_loop = loop
        _stop_on_shutdown(_registry)
    if _registry.cluster is not None and _registry.cluster.channel is None:
        await _registry.cluster.start(_registry)
    return _registry


def server_loop():
    """The event loop this process's registry runs on, while it runs (where the channel layer's
    connections live); None in a process that serves nothing (a script, a management command)."""
    loop = _registry_loop
    return loop if loop is not None and loop.is_running() else None


def current_registry() -> Registry | None:
    """This process's registry if one was made (for readers that must not make one: metrics)."""
    return _registry


def _stop_on_shutdown(registry: Registry) -> None:
    """Under Daphne, stop every actor (final snapshot) before the reactor exits on SIGTERM.

    Daphne speaks no ASGI lifespan; its Twisted reactor's "before shutdown"
    triggers are where it cancels applications, so we hook in there too.
    """
    import sys

    if "twisted.internet.reactor" not in sys.modules:
        return
    from twisted.internet import defer, reactor

    if not reactor.running:
        return

    def stop_all():
        logger.info("shutting down: saving %d open documents", len(registry.actors()))
        return defer.Deferred.fromFuture(asyncio.ensure_future(registry.stop_all()))

    reactor.addSystemEventTrigger("before", "shutdown", stop_all)

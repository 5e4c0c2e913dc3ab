"""Who may connect, and who may still be connected.

At connect (admit): the credentials collab.auth found (a bearer token or a
session) and the user's role on the document are resolved together, in one
worker-thread hop and, for a token, one query (the project's policy may
answer both at once: BaseAccessPolicy.token_and_role). A positive answer is
kept in the process for COLLAB_ACCESS_CACHE_TTL seconds, so the clients of a
reconnect storm that share a user and a document (a person's tabs, a
script's workers) cost one lookup between them: concurrent misses for the
same key share one lookup, later ones hit the cache. Refusals are never
cached (a role given must work at once). Every access change this process
hears of (collab.live.access_changed, below) drops that user's answers, and
a lookup that was under way during a change is not cached; a change made
where no signal reaches (another process in the embedded set-up, bulk SQL)
is seen at the latest after the TTL.

Access is checked at connect; after that, a role removed, a token revoked or
a session ended (sign-out, password change, account deactivated, session
expired) must close the socket within seconds. Two paths lead here: the
project calls collab.live.access_changed, which reaches every process once
(directly in the embedded set-up; with Redis through a channel-layer group
of the processes' channels, collab.cluster) and re-checks that user's
sockets there at once (AccessWatcher.changed: a process-local registry of
sockets by user, no channel-layer group per socket), and this watcher
re-checks all sockets of the process every COLLAB_REAUTH_INTERVAL seconds as
a safety net (session expiry, changes made by another process in the embedded set-up,
bulk SQL...). The re-check is batched: at most five queries per interval,
whatever the number of sockets.

Sessions are Django's own and are checked here; roles and tokens belong to
the project, asked through COLLAB_ACCESS_POLICY (BaseAccessPolicy below)
and COLLAB_TOKEN_BACKEND (collab.auth.BaseTokenBackend).
"""

import asyncio
import hashlib
import logging
import time
import weakref
from collections import OrderedDict
from functools import lru_cache
from typing import NamedTuple

from channels.db import database_sync_to_async

from .auth import Credentials, session_user, token_backend
from .config import CollabConfig, backend_class

logger = logging.getLogger(__name__)


class Verdict:
    OK = "ok"
    TOKEN_REVOKED = "token revoked"
    SIGNED_OUT = "signed out or session ended"
    NO_DOCUMENT = "document deleted"
    NO_ROLE = "access removed"
    ROLE_CHANGED = "role changed"


class Entry(NamedTuple):
    """What an open socket was let in with (collab.auth put the credentials in its scope)."""

    user_id: int
    document_id: str | None  # None: a socket bound to no document (collab.feed), judged by its credentials
    can_write: bool
    token_id: int | None = None  # bearer-token sockets
    session_key: str | None = None  # session-cookie sockets: the session...
    session_auth_hash: str | None = None  # ...and the user's auth hash then (it changes with the password)


def _live_sessions(keys: set[str]) -> set[str]:
    """The session keys among `keys` that still exist and have not expired."""
    from importlib import import_module

    from django.conf import settings
    from django.utils import timezone

    store = import_module(settings.SESSION_ENGINE).SessionStore
    if hasattr(store, "get_model_class"):  # database-backed sessions (db, cached_db): one query
        return set(
            store.get_model_class().objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
            .values_list("session_key", flat=True)
        )
    return {key for key in keys if store(session_key=key).load()}  # load() is empty once gone or expired


def _valid_sessions(entries: list[Entry]) -> set[str]:
    """Session keys whose session still signs its user in, as a request would see it.

    Sign-out deletes the session; a password change changes the user's
    session auth hash (Django's own invalidation of other sessions); a
    deactivated or deleted user no longer authenticates.
    """
    from django.contrib.auth import get_user_model
    from django.utils.crypto import constant_time_compare

    sessions = [e for e in entries if e.session_key is not None]
    if not sessions:
        return set()
    live = _live_sessions({e.session_key for e in sessions})
    users = {u.pk: u for u in get_user_model()._default_manager.filter(pk__in={e.user_id for e in sessions})}
    valid = set()
    for e in sessions:
        user = users.get(e.user_id)
        if (
            e.session_key in live
            and user is not None
            and getattr(user, "is_active", True)
            and constant_time_compare(user.get_session_auth_hash(), e.session_auth_hash or "")
        ):
            valid.add(e.session_key)
    return valid


class BaseAccessPolicy:
    """Who may open a document, and write to it: the project's rule (COLLAB_ACCESS_POLICY).

    The engine knows users (Django's auth) and document ids, nothing of how
    the project shares documents. Methods run in a worker thread (the sync
    ORM is fine) and are asked in batches: at connect for one socket, by the
    re-check for every open socket of the process at once.
    """

    def roles(self, user_ids: set, document_ids: set[str]) -> dict[str, dict]:
        """{document id: {user id: role}} for each of `document_ids` that exists.

        A document missing from the answer is gone (its sockets close with 4404);
        a user missing from a document's dict has no role on it (4403). Keys are
        the ids as given (strings). Answer in a fixed number of queries.
        """
        raise NotImplementedError("subclasses of BaseAccessPolicy must provide roles()")

    def can_write(self, role) -> bool:
        """Whether `role` (one of the values roles() gives) may edit: else the socket is read-only."""
        raise NotImplementedError("subclasses of BaseAccessPolicy must provide can_write()")

    def role(self, user, document_id: str) -> tuple[bool, object]:
        """(the document exists, the user's role on it or None): a session socket's check at connect.

        By default through roles(); a project may answer in one query.
        """
        found = self.roles({user.pk}, {document_id})
        return (True, found[document_id].get(user.pk)) if document_id in found else (False, None)

    def token_and_role(self, raw: str, document_id: str):
        """((user, token id), document exists, role) for a bearer token's connect; None if the token signs no one in.

        By default the project's token backend, then role(): two queries. A
        project whose tokens are its own may answer both in one (an override
        must accept exactly the tokens COLLAB_TOKEN_BACKEND accepts).
        """
        found = token_backend().authenticate(raw)
        if found is None:
            return None
        return (found, *self.role(found[0], document_id))


@lru_cache(maxsize=4)
def _policy(path: str) -> BaseAccessPolicy:
    return backend_class("ACCESS_POLICY", path, BaseAccessPolicy)()


def access_policy(config: CollabConfig | None = None) -> BaseAccessPolicy:
    """The project's BaseAccessPolicy, named by COLLAB_ACCESS_POLICY (one instance per path)."""
    return _policy((config or CollabConfig.from_settings()).access_policy)


class Admission(NamedTuple):
    """The answer at connect: who the credentials sign in (None: no one), and what they may do."""

    user: object = None
    exists: bool = False  # the document
    role: object = None
    can_write: bool = False
    token_id: int | None = None  # the credentials, for the re-checks (Entry)
    session_key: str | None = None
    session_auth_hash: str | None = None


NOBODY = Admission()


def _admit(credentials: Credentials, document_id: str, policy: BaseAccessPolicy) -> Admission:
    """Resolve credentials and role together (worker thread): one query for a token, one more for a session."""
    if credentials.token is not None:
        found = policy.token_and_role(credentials.token, document_id)
        if found is None:
            return NOBODY
        (user, token_id), exists, role = found
        return Admission(user, exists, role, role is not None and policy.can_write(role), token_id=token_id)
    if credentials.session_key:
        user, auth_hash = session_user(credentials.session_key)
        if not user.is_authenticated:
            return NOBODY
        exists, role = policy.role(user, document_id)
        return Admission(user, exists, role, role is not None and policy.can_write(role),
                         session_key=credentials.session_key, session_auth_hash=auth_hash)
    return NOBODY


class AdmissionCache:
    """Positive admissions for `ttl` seconds, by (credential digest, document); dropped per user on access changes.

    Used from the event loop's thread only (collab.live.access_changed comes
    here through call_soon_threadsafe). `generation` moves on at every drop:
    a lookup that started before a drop does not store its (maybe stale) answer.
    """

    LIMIT = 100_000  # answers kept at most (the oldest go first)

    def __init__(self, ttl: float):
        self.ttl = ttl
        self.generation = 0
        self._answers: OrderedDict = OrderedDict()  # key -> (expires at, Admission)
        self._keys_by_user: dict = {}
        self._lookups: dict = {}  # key -> the Future of a lookup under way

    @staticmethod
    def key(credentials: Credentials, document_id: str):
        # The digest, not the secret: a token or session key is not kept in memory longer than its socket.
        secret = credentials.token if credentials.token is not None else "session " + credentials.session_key
        return hashlib.sha256(secret.encode()).digest(), document_id

    def get(self, key) -> Admission | None:
        found = self._answers.get(key)
        if found is None:
            return None
        if found[0] <= time.monotonic():
            self._drop(key)
            return None
        return found[1]

    def put(self, key, admission: Admission, generation: int) -> None:
        if self.ttl <= 0 or admission.role is None or generation != self.generation:
            return
        self._drop(key)
        while len(self._answers) >= self.LIMIT:
            self._drop(next(iter(self._answers)))
        self._answers[key] = (time.monotonic() + self.ttl, admission)
        self._keys_by_user.setdefault(admission.user.pk, set()).add(key)

    def _drop(self, key) -> None:
        found = self._answers.pop(key, None)
        if found is not None:
            keys = self._keys_by_user.get(found[1].user.pk)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys_by_user[found[1].user.pk]

    def forget_user(self, user_id) -> None:
        """The user's access changed: drop their answers, and keep lookups under way from storing theirs."""
        self.generation += 1
        for key in self._keys_by_user.pop(user_id, ()):
            self._answers.pop(key, None)

    def __len__(self) -> int:
        return len(self._answers)

    async def admit(self, credentials: Credentials | None, document_id: str, policy: BaseAccessPolicy) -> Admission:
        if credentials is None or (credentials.token is None and not credentials.session_key):
            return NOBODY  # nothing to look up
        key = self.key(credentials, document_id)
        found = self.get(key)
        if found is not None:
            return found
        lookup = self._lookups.get(key)
        if lookup is None:  # else the same credentials for the same document are being looked up: share it
            # A task of its own: a client that leaves mid-lookup cancels only its wait, not the others'.
            lookup = self._lookups[key] = asyncio.ensure_future(self._lookup(key, credentials, document_id, policy))
        return await asyncio.shield(lookup)

    async def _lookup(self, key, credentials: Credentials, document_id: str, policy: BaseAccessPolicy) -> Admission:
        generation = self.generation
        try:
            admission = await database_sync_to_async(_admit)(credentials, document_id, policy)
        finally:
            del self._lookups[key]
        self.put(key, admission, generation)
        return admission


async def admit(credentials: Credentials | None, document_id, config: CollabConfig) -> Admission:
    """Who `credentials` sign in and their role on the document: from the cache, or one lookup."""
    return await get_watcher(config).cache.admit(credentials, str(document_id), access_policy(config))


@database_sync_to_async
def verdicts(entries: list[Entry]) -> list[str]:
    """What each open socket may still do, in as many queries as there are kinds of check.

    Sockets let in alike (a person's tabs, a script's workers on one
    document) are judged once: with 5,000 sockets the per-entry work, not
    the queries, was most of an idle server's CPU (a re-check every 5 s).
    """
    distinct = list(dict.fromkeys(entries))
    judged = dict(zip(distinct, _verdicts(distinct)))
    return [judged[e] for e in entries]


def _verdicts(entries: list[Entry]) -> list[str]:
    token_ids = {e.token_id for e in entries if e.token_id is not None}
    active_tokens = token_backend().active(token_ids) if token_ids else set()
    valid_sessions = _valid_sessions(entries)
    policy = access_policy()
    # A socket bound to no document (a user's feed, collab.feed) is judged by its credentials alone.
    document_ids = {d: str(d) for d in {e.document_id for e in entries} if d is not None}
    on_documents = [e for e in entries if e.document_id is not None]
    roles = policy.roles({e.user_id for e in on_documents}, set(document_ids.values())) if on_documents else {}
    result = []
    for e in entries:
        document_id = document_ids.get(e.document_id)
        if e.token_id is not None and e.token_id not in active_tokens:
            result.append(Verdict.TOKEN_REVOKED)
        elif e.token_id is None and e.session_key not in valid_sessions:
            result.append(Verdict.SIGNED_OUT)
        elif e.document_id is None:
            result.append(Verdict.OK)
        elif document_id not in roles:
            result.append(Verdict.NO_DOCUMENT)
        else:
            role = roles[document_id].get(e.user_id)
            if role is None:
                result.append(Verdict.NO_ROLE)
            elif policy.can_write(role) != e.can_write:
                result.append(Verdict.ROLE_CHANGED)
            else:
                result.append(Verdict.OK)
    return result


class AccessWatcher:
    """The process's open sockets by user, its admission cache, and one periodic re-check of them all.

    A process-local registry, not a channel-layer group per socket: an access
    change reaches this process once (collab.live.access_changed: directly in
    the embedded set-up, through the cluster's process channel with Redis) and
    is applied to that user's sockets here.
    """

    def __init__(self, interval: float, cache_ttl: float):
        self.interval = interval
        self.cache = AdmissionCache(cache_ttl)
        self.loop = asyncio.get_running_loop()
        self._failing = False
        self.consumers: weakref.WeakSet = weakref.WeakSet()
        self._by_user: dict = {}  # user id -> WeakSet of their consumers
        self._task: asyncio.Task | None = None

    def watch(self, consumer, user_id) -> None:
        self.consumers.add(consumer)
        self._by_user.setdefault(user_id, weakref.WeakSet()).add(consumer)
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._run(), name="collab-access-watcher")

    def unwatch(self, consumer, user_id) -> None:
        self.consumers.discard(consumer)
        sockets = self._by_user.get(user_id)
        if sockets is not None:
            sockets.discard(consumer)
            if not sockets:
                del self._by_user[user_id]

    def changed(self, user_id, ended_session: str | None = None) -> None:
        """The user's access may have changed: drop their cached answers, re-check their open sockets now.

        A sign-out names the session it ended: the signal is sent before
        Django deletes the session, so those sockets close without asking the database.
        """
        self.cache.forget_user(user_id)
        sockets = [c for c in list(self._by_user.get(user_id, ())) if c.access_entry() is not None]
        recheck = []
        for consumer in sockets:
            if ended_session is not None and consumer.access_entry().session_key == ended_session:
                consumer.lose_access(Verdict.SIGNED_OUT)
            else:
                recheck.append(consumer)
        if recheck:
            self.loop.create_task(self._recheck(recheck))

    async def _recheck(self, consumers) -> None:
        try:
            found = await verdicts([c.access_entry() for c in consumers])
        except Exception:
            logger.exception("could not re-check the access of %d sockets", len(consumers))
            return
        for consumer, verdict in zip(consumers, found):
            if verdict != Verdict.OK and consumer.access_entry() is not None:
                consumer.lose_access(verdict)

    async def _run(self) -> None:
        while self.consumers:
            await asyncio.sleep(self.interval)
            try:
                await self.check_all()
            except asyncio.CancelledError:
                raise
            except Exception:
                if not self._failing:  # once per outage, not every interval
                    logger.exception("could not re-check socket access; retrying every %ss", self.interval)
                self._failing = True
            else:
                self._failing = False

    async def check_all(self) -> None:
        open_ = [(c, entry) for c in list(self.consumers) if (entry := c.access_entry()) is not None]
        if not open_:
            return
        consumers = [c for c, _ in open_]
        for consumer, verdict in zip(consumers, await verdicts([entry for _, entry in open_])):
            if verdict != Verdict.OK:
                consumer.lose_access(verdict)


_watcher: AccessWatcher | None = None


def get_watcher(config: CollabConfig) -> AccessWatcher:
    """This process's watcher, made on first use in the running event loop."""
    global _watcher
    if _watcher is None or _watcher.loop is not asyncio.get_running_loop():
        _watcher = AccessWatcher(config.reauth_interval, config.access_cache_ttl)
    return _watcher


def call_on_loop(loop: asyncio.AbstractEventLoop, fn, *args) -> None:
    """Call `fn(*args)` on `loop`, from any thread: at once if this thread runs it, else soon
    (call_soon_threadsafe); not at all once it is closed. For the per-process indexes made on
    first use in the running loop (this watcher, collab.feed's feeds), reached from sync code."""
    if loop.is_closed():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        fn(*args)
    else:
        loop.call_soon_threadsafe(fn, *args)


def changed_here(user_id, ended_session: str | None = None) -> None:
    """Apply an access change to this process's sockets and cache, from any thread.

    Nothing to do in a process that has served no socket (no watcher yet).
    """
    watcher = _watcher
    if watcher is not None:
        call_on_loop(watcher.loop, watcher.changed, user_id, ended_session)

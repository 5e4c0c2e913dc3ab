"""Who may still be connected: re-checks the access of every open socket of this process.

Access is checked at connect; after that, a role removed, a token revoked or
a session ended (sign-out, password change, account deactivated, session
expired) must close the socket within seconds. Two paths lead here: the
project calls collab.live.access_changed, which nudges the user's sockets at
once (through the channel layer, so in every process), and this watcher
re-checks all sockets of the process every COLLAB_REAUTH_INTERVAL seconds as
a safety net (session expiry, changes made by another process in the embedded set-up,
bulk SQL...). The re-check is batched: at most five queries per interval,
whatever the number of sockets.

Sessions are Django's own and are checked here; roles and tokens belong to
the project, asked through COLLAB_ACCESS_POLICY (BaseAccessPolicy below)
and COLLAB_TOKEN_BACKEND (collab.auth.BaseTokenBackend).
"""

import asyncio
import logging
import weakref
from typing import NamedTuple

from channels.db import database_sync_to_async

from .auth import token_backend
from .config import CollabConfig, backend

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
    document_id: str
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


def access_policy() -> BaseAccessPolicy:
    """The project's BaseAccessPolicy, named by COLLAB_ACCESS_POLICY."""
    return backend("ACCESS_POLICY", CollabConfig.from_settings().access_policy, BaseAccessPolicy)


def role_at_connect(user, document_id) -> tuple[bool, object, bool]:
    """(document exists, the user's role or None, may write): the check a socket passes at connect."""
    policy = access_policy()
    document_id = str(document_id)
    found = policy.roles({user.pk}, {document_id})
    if document_id not in found:
        return False, None, False
    role = found[document_id].get(user.pk)
    return True, role, role is not None and policy.can_write(role)


@database_sync_to_async
def verdicts(entries: list[Entry]) -> list[str]:
    """What each open socket may still do, in as many queries as there are kinds of check."""
    token_ids = {e.token_id for e in entries if e.token_id is not None}
    active_tokens = token_backend().active(token_ids) if token_ids else set()
    valid_sessions = _valid_sessions(entries)
    policy = access_policy()
    roles = policy.roles({e.user_id for e in entries}, {str(e.document_id) for e in entries})
    result = []
    for e in entries:
        document_id = str(e.document_id)
        if e.token_id is not None and e.token_id not in active_tokens:
            result.append(Verdict.TOKEN_REVOKED)
        elif e.token_id is None and e.session_key not in valid_sessions:
            result.append(Verdict.SIGNED_OUT)
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
    def __init__(self, interval: float):
        self.interval = interval
        self._failing = False
        self.consumers: weakref.WeakSet = weakref.WeakSet()
        self._task: asyncio.Task | None = None

    def watch(self, consumer) -> None:
        self.consumers.add(consumer)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="collab-access-watcher")

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
        consumers = [c for c in list(self.consumers) if c.access_entry() is not None]
        if not consumers:
            return
        for consumer, verdict in zip(consumers, await verdicts([c.access_entry() for c in consumers])):
            if verdict != Verdict.OK:
                consumer.lose_access(verdict)


_watcher: AccessWatcher | None = None


def get_watcher(interval: float) -> AccessWatcher:
    global _watcher
    if _watcher is None or (_watcher._task is not None and _watcher._task.get_loop() is not asyncio.get_running_loop()):
        _watcher = AccessWatcher(interval)
    return _watcher

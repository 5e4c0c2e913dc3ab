"""Who may still be connected: re-checks the access of every open socket of this process.

Access is checked at connect; after that, a role removed or a token revoked
must close the socket within seconds. Two paths lead here: the documents
app's `access_changed` signal nudges the user's sockets at once (through the
channel layer, so in every process), and this watcher re-checks all sockets
of the process every COLLAB_REAUTH_INTERVAL seconds as a safety net (changes
made by another process in the embedded set-up, bulk SQL...). The re-check is
batched: three queries per interval, whatever the number of sockets.
"""

import asyncio
import logging
import weakref

from channels.db import database_sync_to_async

logger = logging.getLogger(__name__)


class Verdict:
    OK = "ok"
    TOKEN_REVOKED = "token revoked"
    NO_DOCUMENT = "document deleted"
    NO_ROLE = "access removed"
    ROLE_CHANGED = "role changed"


@database_sync_to_async
def verdicts(entries: list[tuple]) -> list[str]:
    """For (user id, document id, token id or None, may write) entries: what each may still do."""
    from documents.models import WRITE_ROLES, ApiToken, Document, Membership, Role

    token_ids = {e[2] for e in entries if e[2] is not None}
    active_tokens = set(
        ApiToken.objects.filter(pk__in=token_ids, revoked_at__isnull=True, user__is_active=True)
        .values_list("pk", flat=True)
    ) if token_ids else set()
    documents = {str(e[1]) for e in entries}
    owners = {str(pk): owner for pk, owner in Document.objects.filter(pk__in=documents).values_list("pk", "owner_id")}
    roles = {
        (str(doc), user): role
        for doc, user, role in Membership.objects.filter(
            document_id__in=documents, user_id__in={e[0] for e in entries}
        ).values_list("document_id", "user_id", "role")
    }
    result = []
    for user_id, document_id, token_id, can_write in entries:
        document_id = str(document_id)
        if token_id is not None and token_id not in active_tokens:
            result.append(Verdict.TOKEN_REVOKED)
        elif document_id not in owners:
            result.append(Verdict.NO_DOCUMENT)
        else:
            role = Role.OWNER if owners[document_id] == user_id else roles.get((document_id, user_id))
            if role is None:
                result.append(Verdict.NO_ROLE)
            elif (role in WRITE_ROLES) != can_write:
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

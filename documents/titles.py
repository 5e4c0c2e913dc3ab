"""Live titles: a rename reaches everyone who has the document open, at once.

The title lives in one place, Document.title (the database), written by
services.document_rename: the last rename committed is the title, whatever
order the requests arrived in. After the commit, the document's server peer
announces it in its awareness entry (collab.live.announce; only the server's
own entry is believed, see frontend/js/server-peer.js):
`renamed: {"title": ..., "n": <a fresh token>}`. An editor that hears it (or
connects, or reconnects) reads the title from GET /api/documents/<id>/, so
that two renames announced out of order still leave every tab with the
committed one, never a stale title. The document list re-reads itself when
it comes back into view (frontend/js/pages.js).
"""

import logging
import secrets

from asgiref.sync import async_to_sync, sync_to_async

from collab import live

from .services import document_rename

logger = logging.getLogger(__name__)

# The field of the server's awareness entry (frontend/js/title.js reads it).
NOTICE = "renamed"


async def announce(document_id, title: str) -> None:
    """Tell everyone who has the document open that it was renamed (after the rename committed)."""
    try:
        await live.announce(document_id, {NOTICE: {"title": title, "n": secrets.token_hex(8)}})
    except Exception:
        # The rename is stored: open editors get it when they reconnect, the list when it is looked at.
        logger.warning("document %s: could not announce its new title to open editors", document_id, exc_info=True)


async def arename(document, title: str):
    """Rename (async callers: the API) and announce it."""
    document = await sync_to_async(document_rename)(document=document, title=title)
    await announce(document.pk, document.title)
    return document


def rename(document, title: str):
    """Rename (sync callers under the ASGI server: the pages, the admin) and announce it."""
    document = document_rename(document=document, title=title)
    async_to_sync(announce)(document.pk, document.title)
    return document

"""Live writes of a document's content from outside the editor: a script replaces or appends.

The body (Markdown, HTML, plain text or ProseMirror JSON, chosen by its
media type) is parsed by the importer (`documents.importing`), turned into
a Yjs document of the editor's shape, and brought into the live document as
ONE change made by its actor (`collab.live.edit`), so that everyone with
the document open sees it at once:

- replace: `restore.restore_into`, the admin's restore: block by block,
  so blocks that did not change keep their identity and an edit someone
  makes meanwhile in one of them survives;
- append: `restore.append_into`, copies of the new blocks after the last.

Optimistic concurrency: `precondition(state, state_vector)` is checked
against the live state the change is computed from, and the change is
applied only if the document is still in that state when the actor takes
it (collab.live.StateChanged otherwise).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pycrdt import Doc

from .importing import ImportRefused, parse
from .importing.ydoc import prosemirror_to_doc
from .restore import append_into, restore_into

# The media types a body may be sent as, and the importer's name for each.
MEDIA_TYPES = {
    "text/markdown": "md",
    "text/html": "html",
    "text/plain": "txt",
    "application/json": "json",
}


class UnsupportedMediaType(Exception):
    """The body's media type is not one of MEDIA_TYPES."""

    def __init__(self, media_type: str):
        self.media_type = media_type
        super().__init__(
            f"Send the content as one of {', '.join(MEDIA_TYPES)} (got {media_type or 'no Content-Type'})"
        )


@dataclass(frozen=True)
class Written:
    # The live document just after the change: (state as one update, state vector).
    state: bytes
    state_vector: bytes
    # Blocks inserted, replaced or deleted.
    changed: int
    # What the importer dropped or simplified, in sentences.
    notes: list[str]


async def write_content(document_id, body: bytes, media_type: str, *, append: bool, author: str,
                        precondition=None) -> Written:
    """Replace (append=False) or extend the live document's content with `body`.

    Raises UnsupportedMediaType, importing.ImportRefused (the body is not
    what its media type says, or is refused), and collab.live's errors
    (StateChanged, TooLarge, DocumentGone, Unavailable); whatever the
    precondition raises is raised as it is. Nothing changes on any error.
    """
    from collab import live  # deferred: `documents` imports without the engine's modules loaded

    format_name = MEDIA_TYPES.get(media_type)
    if format_name is None:
        raise UnsupportedMediaType(media_type)
    # Parsing a large body takes a while: off the event loop the actors share.
    imported = await asyncio.to_thread(parse, body, format_name)
    target = await asyncio.to_thread(prosemirror_to_doc, imported.content)
    changed = 0

    def change(doc: Doc) -> None:
        nonlocal changed
        changed = append_into(doc, target) if append else restore_into(doc, target)

    state, state_vector = await live.edit(document_id, change, author, precondition=precondition)
    return Written(state, state_vector, changed, list(imported.notes))


__all__ = ["ImportRefused", "MEDIA_TYPES", "UnsupportedMediaType", "Written", "write_content"]

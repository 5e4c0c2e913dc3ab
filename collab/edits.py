"""Named edits: changes the project lets the engine compute against a live document, in its actor.

A change made from outside a document's actor (a restore, a REST content
write) that reads the live state, computes an update and sends it back is
not serialized with another such change: two restores read the same state,
both insert the version's blocks, and the document ends up with them twice.
A named edit is computed inside the actor's turn instead, against the state
every earlier message has already changed, so two of them run one after
the other.

Named, not passed as callables: a request can travel to the process that
holds the document (collab.cluster), and only plain data crosses. The project
registers its edits once at start-up (every process runs the same code);
the function receives a scratch copy of the live `pycrdt.Doc` and the
request's arguments, changes the Doc, and returns plain data (the answer).
"""

from collections.abc import Callable

_EDITS: dict[str, Callable] = {}


def register(name: str, change: Callable) -> None:
    """Make `change(doc, *args)` available as the edit `name` (see collab.live.versioned_edit)."""
    _EDITS[name] = change


def get(name: str) -> Callable:
    """The edit registered as `name`; ValueError if none is."""
    try:
        return _EDITS[name]
    except KeyError:
        raise ValueError(f"no edit is registered as {name!r}") from None

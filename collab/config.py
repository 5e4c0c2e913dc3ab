"""The engine's knobs, each declared once: its name, type, default, bounds and help.

Every field of CollabConfig is one knob: `settings.COLLAB["FLUSH_DELAY"]`, read
from the environment variable `COLLAB_FLUSH_DELAY` (editor/settings.py does
`COLLAB = from_environ(os.environ)`), checked at startup (collab/checks.py) and
listed in the README's configuration table (`python -m collab.config` prints
its rows; a test keeps them equal). An unknown COLLAB_* variable, or a value of
the wrong type or out of bounds, stops the process with a message naming it.

This module imports only the standard library and Django's exceptions: the
settings module imports it, before any app is loaded.
"""

import difflib
import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from django.core.exceptions import ImproperlyConfigured

PREFIX = "COLLAB_"


def knob(default, help: str, *, unit: str = "", gt: float | None = None, ge: float | None = None,
         env: str = ""):
    """One knob: a dataclass field whose metadata says how to read and check it.

    `gt`/`ge` bound it from below (exclusive/inclusive); `unit` is the README's
    (seconds are "s"); `env` overrides the variable name (COLLAB_<NAME>).
    """
    return field(default=default, metadata={"help": help, "unit": unit, "gt": gt, "ge": ge, "env": env})


@dataclass(frozen=True)
class CollabConfig:
    # The durability window: an update is written at most FLUSH_MAX_WAIT after the first
    # unsaved change, sooner after a FLUSH_DELAY pause.
    flush_delay: float = knob(0.1, "quiet period before unsaved updates are written", unit="s", gt=0)
    flush_max_wait: float = knob(0.5, "ceiling: the durability window (at least COLLAB_FLUSH_DELAY)",
                                 unit="s", gt=0)
    snapshot_interval: float = knob(60.0, "a version is taken this long after the first change since the last",
                                    unit="s", gt=0)
    idle_timeout: float = knob(10.0, "an actor with no subscribers stops (after a snapshot)", unit="s", gt=0)
    # The first update after a quiet spell goes at once; those close behind it are merged.
    fanout_interval: float = knob(0.01, "updates arriving this soon after the last fan-out are merged into one "
                                        "frame per recipient, with those already waiting in the actor's mailbox "
                                        "(0: only those)", unit="s", ge=0)
    send_queue_limit: int = knob(1024, "a connection further behind is closed (4013) and resyncs",
                                 unit="frames", gt=0)
    # Bytes queued or in the socket's buffer: what a client that stops reading can pin.
    send_buffer_bytes: int = knob(8 * 1024 * 1024, "a connection holding more unsent bytes than this beyond its "
                                  "largest frame (a client that stops reading) is closed (4013) and resyncs",
                                  unit="bytes", ge=0)
    mailbox_size: int = knob(1024, "a full mailbox makes socket readers wait", unit="messages", gt=0)
    persist_threads: int = knob(4, "threads loading documents from the database, shared by all documents", gt=0)
    # Every document's writes go through one group commit per process (collab.writer).
    batch_writes: int = knob(1000, "most writes (update-log rows and snapshots, from any documents) committed "
                             "in one transaction; more wait for the next", unit="writes", gt=0)
    commit_interval: float = knob(0.02, "under load, a group commit starts at least this long after the one "
                                  "before, with every write that arrived meanwhile (the first after a quiet "
                                  "spell starts at once)", unit="s", ge=0)
    retry_max: float = knob(5.0, "longest wait between retries of a failed write", unit="s", gt=0)
    layer_capacity: int = knob(1000, "with Redis: channels-redis per-channel queue capacity", gt=0)
    lease_ttl: float = knob(5.0, "with Redis: a dead process's documents are taken over after this long",
                            unit="s", gt=0)
    # No smaller per-message limit: one message may carry a long paste or a whole document.
    max_document_size: int = knob(16 * 1024 * 1024, "an update that would take a document past it, or one "
                                  "WebSocket message larger than it, is refused (4413)", unit="bytes", gt=0)
    rate_limit: float = knob(200.0, "token bucket of messages per connection: the sustained rate; beyond the "
                             "burst, the connection is read at this rate (the sender waits)", unit="/s", gt=0)
    rate_burst: int = knob(1000, "the token bucket's burst: messages a connection may send at once",
                           unit="messages", gt=0)
    max_connections_per_document: int = knob(500, "on the document's owner process; beyond it, 4029 "
                                             "(reconnect later)", gt=0)
    max_connections_per_user: int = knob(50, "per process; beyond it, 4029 (reconnect later)", gt=0)
    handshake_timeout: float = knob(15.0, "a socket that has not sent sync step 1 by then is closed "
                                    "(4008; it reconnects)", unit="s", gt=0)
    reauth_interval: float = knob(5.0, "open sockets' roles and tokens are re-checked this often (in one batch)",
                                  unit="s", gt=0)
    # Refusals are never kept; an access change heard by this process drops the user's answers at once.
    access_cache_ttl: float = knob(5.0, "a connect's answer (who the token or session is, their role) is kept this "
                                   "long for the next connects with the same credentials and document (0: off)",
                                   unit="s", ge=0)
    # Daphne's own (whole seconds: its options are integers); editor/serve.py passes them on.
    ping_interval: int = knob(20, "Daphne pings sockets idle this long", unit="s", gt=0)
    ping_timeout: int = knob(30, "a pinged peer that has not answered after this long is dropped", unit="s", gt=0)
    store: str = knob("collab.store.DjangoStore", "dotted path of the actors' storage class")
    # What the engine asks of the project (README, Layout): empty until the project names its classes.
    storage: str = knob("", "this project: `documents.storage.DocumentStorage`; the dotted path of a "
                            "`collab.store.BaseStorage`, the tables DjangoStore writes")
    access_policy: str = knob("", "this project: `documents.access.DocumentAccess`; the dotted path of a "
                                  "`collab.access.BaseAccessPolicy`, who may open and edit a document")
    token_backend: str = knob("", "this project: `documents.access.ApiTokenBackend`; the dotted path of a "
                                  "`collab.auth.BaseTokenBackend`, whose a bearer token is")
    # REDIS_URL also picks the channel layer and cache (editor/settings.py): not a COLLAB_ variable.
    redis_url: str = knob("", "with Redis, processes share documents: one owner each, by lease", env="REDIS_URL")

    @classmethod
    def from_settings(cls) -> "CollabConfig":
        from django.conf import settings

        return cls(**{f.name: value for f, value in _read(getattr(settings, "COLLAB", {})).items()})


def setting_name(f) -> str:
    return f.name.upper()


def env_name(f) -> str:
    return f.metadata["env"] or PREFIX + setting_name(f)


KNOBS = tuple(fields(CollabConfig))
_BY_SETTING = {setting_name(f): f for f in KNOBS}
_BY_ENV = {env_name(f): f for f in KNOBS}


def from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    """settings.COLLAB from the environment: every knob, its variable's value or its default.

    Raises ImproperlyConfigured, naming the variable, for an unknown COLLAB_*
    variable or a value that is mistyped or out of bounds.
    """
    unknown = sorted(name for name in environ if name.startswith(PREFIX) and name not in _BY_ENV)
    if unknown:
        raise ImproperlyConfigured(f"{unknown[0]} is not a setting{_suggest(unknown[0], _BY_ENV)}")
    return {setting_name(f): parse(f, environ[env_name(f)]) if env_name(f) in environ else f.default
            for f in KNOBS}


def parse(f, text: str):
    """A knob's value from its variable's text, checked."""
    try:
        value = f.type(text.strip()) if f.type is not str else text
    except ValueError:
        raise ImproperlyConfigured(f"{env_name(f)} must be {_describe(f)}, got {text!r}") from None
    return check(f, value, env_name(f))


def check(f, value, name: str):
    """The value if it is of the knob's type and within its bounds; else ImproperlyConfigured naming `name`."""
    if f.type is str:
        ok = isinstance(value, str)
    else:
        # An int may stand for a float, not the other way round; True is no number here.
        number = isinstance(value, int if f.type is int else (int, float)) and not isinstance(value, bool)
        gt, ge = f.metadata["gt"], f.metadata["ge"]
        ok = number and math.isfinite(value) and (gt is None or value > gt) and (ge is None or value >= ge)
    if not ok:
        raise ImproperlyConfigured(f"{name} must be {_describe(f)}, got {value!r}")
    return f.type(value)


def _read(raw: Mapping[str, Any]) -> dict:
    """settings.COLLAB's entries checked, by field; knobs it leaves out keep their defaults."""
    unknown = sorted(set(raw) - set(_BY_SETTING))
    if unknown:
        raise ImproperlyConfigured(f"COLLAB['{unknown[0]}'] is not a setting{_suggest(unknown[0], _BY_SETTING)}")
    return {f: check(f, raw[key], f"COLLAB['{key}']") for key, f in _BY_SETTING.items() if key in raw}


def _describe(f) -> str:
    kind = {int: "a whole number", float: "a number", str: "a string"}[f.type]
    if f.metadata["gt"] is not None:
        kind += f" greater than {f.metadata['gt']:g}"
    if f.metadata["ge"] is not None:
        kind += f" of at least {f.metadata['ge']:g}"
    return kind


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else "; the settings are listed in the README (Configuration)"


def backend_class(key: str, path: str, base: type) -> type:
    """The class at dotted `path`, which must subclass `base`; ImproperlyConfigured naming COLLAB_<key> if not."""
    from django.utils.module_loading import import_string

    if not path:
        raise ImproperlyConfigured(f"COLLAB_{key} is not set: give the dotted path of a "
                                   f"{base.__module__}.{base.__qualname__} subclass")
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"COLLAB_{key} = {path!r} cannot be imported: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ImproperlyConfigured(f"COLLAB_{key} = {path!r} is not a subclass of {base.__module__}.{base.__qualname__}")
    return cls


def backend(key: str, path: str, base: type):
    """An instance of the project's class for one of the engine's interfaces (see backend_class)."""
    return backend_class(key, path, base)()


def readme_rows() -> list[str]:
    """The README configuration table's COLLAB_* rows (`python -m collab.config` prints them)."""
    rows = []
    for f in KNOBS:
        if not env_name(f).startswith(PREFIX):
            continue
        default = f"`{f.default:g}`" if isinstance(f.default, float) else f"`{f.default}`"
        default = "none" if f.default == "" else default
        unit = f.metadata["unit"]
        default += "" if not unit else unit if unit.startswith("/") else f" {unit}"
        rows.append(f"| `{env_name(f)}` | {default} | {f.metadata['help']} |")
    return rows


if __name__ == "__main__":
    print("\n".join(readme_rows()))

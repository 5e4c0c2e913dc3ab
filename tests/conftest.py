"""Fixtures shared by the whole suite: real servers, real databases.

`daphne_server` (not pytest-django's live_server, whose name it avoids) is a
real Daphne on 127.0.0.1 with its own database; see tests/support/server.py.

`backend` runs a test on both set-ups: "embedded" (SQLite + in-memory channel
layer, the default of a fresh clone) and "postgres" (PostgreSQL + Redis
channel layer, production). Without PostgreSQL or Redis the postgres variant
is skipped locally, but fails under CI=true: CI must test the real thing.

`synced_client` opens real clients on a document, synced (tests/support/clients.py).
"""

import os

import pytest

from tests.support.clients import synced_client  # noqa: F401 (a fixture for every test)
from tests.support.server import Database, LiveServer, ServiceMissing
from tests.support.services import missing

BACKENDS = ["embedded", "postgres"]


@pytest.fixture(params=BACKENDS, scope="session")
def backend(request):
    return request.param


@pytest.fixture(scope="session")
def session_database(backend):
    try:
        database = Database(backend)
    except ServiceMissing as exc:
        missing(str(exc))
    yield database
    database.drop()


@pytest.fixture(scope="session")
def daphne_server(session_database, backend):
    """One Daphne per backend for the session; tests seed their own users and documents."""
    try:
        server = LiveServer(session_database, redis=backend == "postgres").start()
    except ServiceMissing as exc:
        missing(str(exc))
    yield server
    server.stop()


@pytest.fixture
def server_factory(backend):
    """Make servers of one's own (to restart or kill them); all are stopped afterwards."""
    made, databases = [], []

    def make(database=None, **kwargs) -> LiveServer:
        try:
            if database is None:
                database = Database(backend)
                databases.append(database)
            server = LiveServer(database, redis=backend == "postgres", **kwargs)
        except ServiceMissing as exc:
            missing(str(exc))
        made.append(server)
        return server

    yield make
    for server in made:
        server.kill()
    for database in databases:
        database.drop()


_counter = iter(range(1, 1_000_000))


@pytest.fixture
def unique():
    """A name prefix unique within the session (users are shared by the session's server)."""
    return f"u{os.getpid()}x{next(_counter)}"

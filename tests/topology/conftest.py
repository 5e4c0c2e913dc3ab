"""The production topology (tests/support/proxy.py): nginx with deploy/nginx.conf in front of three
Daphne processes on PostgreSQL + Redis, shared by this package's tests.

Started once (migrations, collectstatic and three processes take a while); before each test any
process a previous test killed or stopped is started again and waited for until ready. A missing
PostgreSQL, Redis or nginx skips locally and fails under CI=true.
"""

import pytest

from tests.support.node import node_runner
from tests.support.proxy import STARTUP_TIMEOUT, Topology, wait_ready
from tests.support.server import ServiceMissing
from tests.support.services import missing


@pytest.fixture(scope="package")
def running_topology():
    try:
        # HSTS as an operator sets it through compose's ${SECURE_HSTS_SECONDS:-0}: Django adds it only to
        # responses it thinks went out over HTTPS, which shows how it read X-Forwarded-Proto.
        # A low sign-in failure limit keeps the lockout tests (test_client_address.py) short.
        topology = Topology(3, env={"SECURE_HSTS_SECONDS": "3600", "SIGN_IN_FAILURE_LIMIT": "3"})
    except ServiceMissing as exc:
        missing(str(exc))
    with topology:
        yield topology


@pytest.fixture
def topology(running_topology):
    for server in running_topology.servers:
        if server.process is None or server.process.poll() is not None:
            server.start(timeout=STARTUP_TIMEOUT)
        wait_ready(server)
    return running_topology


@pytest.fixture
def node():
    """run(script, *args, env={}) -> CompletedProcess, for a script in tests/clients (Node's y-websocket)."""
    return node_runner()

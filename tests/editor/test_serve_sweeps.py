"""editor.serve.CollabServer: Daphne's sweeps over connections, done for only those due.

In-process: the Server object without its reactor loop (its sweeps are called
directly), real asyncio futures as application instances, and protocols that
record what the sweeps do to them.
"""

import asyncio
import time

import pytest

from editor.serve import CollabServer


class Protocol:
    """Stands for a Daphne HTTP protocol: it only has timeouts to check."""

    def __init__(self):
        self.checks = 0
        self.failed_with = None

    def check_timeouts(self):
        self.checks += 1

    def handle_exception(self, exception):
        self.failed_with = exception


@pytest.fixture
def server(monkeypatch):
    from twisted.internet import reactor

    monkeypatch.setattr(reactor, "callLater", lambda *args: None)  # the sweeps reschedule themselves
    server = CollabServer(application=None, endpoints=["tcp:0"], application_close_timeout=0.05)
    server.connections = {}
    return server


async def test_a_disconnected_socket_is_forgotten_once_its_application_has_finished(server):
    protocol = Protocol()
    server.protocol_connected(protocol)
    instance = asyncio.get_running_loop().create_future()
    server.connections[protocol]["application_instance"] = instance
    server.protocol_disconnected(protocol)
    server.application_checker()
    assert protocol in server.connections, "its application is still closing"
    instance.set_result(None)
    server.application_checker()
    assert protocol not in server.connections


async def test_an_application_that_outlives_its_socket_is_cancelled(server):
    protocol = Protocol()
    server.protocol_connected(protocol)
    instance = asyncio.get_running_loop().create_future()
    server.connections[protocol]["application_instance"] = instance
    server.protocol_disconnected(protocol)
    server.connections[protocol]["disconnected"] = time.time() - 1  # past application_close_timeout
    server.application_checker()
    assert instance.cancelled()
    server.application_checker()
    assert protocol not in server.connections


async def test_an_application_that_fails_fails_its_open_socket(server, caplog):
    protocol = Protocol()
    server.protocol_connected(protocol)
    loop = asyncio.get_running_loop()
    server.connections[protocol]["application_instance"] = instance = loop.create_future()
    instance.add_done_callback(lambda _: server._attention.add(protocol))  # what create_application adds
    instance.set_exception(RuntimeError("boom"))
    await asyncio.sleep(0)  # done-callbacks run on the loop
    server.application_checker()
    assert isinstance(protocol.failed_with, RuntimeError)
    assert "Exception inside application" in caplog.text
    assert protocol in server.connections, "the socket itself is still there until it disconnects"


async def test_a_connection_with_nothing_to_do_is_not_visited(server):
    protocols = [Protocol() for _ in range(3)]
    for protocol in protocols:
        server.protocol_connected(protocol)
        server.connections[protocol]["application_instance"] = asyncio.get_running_loop().create_future()
    server.application_checker()
    assert all(p in server.connections for p in protocols)
    assert server._attention == set()


def test_http_requests_have_their_timeouts_checked_every_tick(server):
    protocol = Protocol()
    server.protocol_connected(protocol)
    for tick in range(3):
        server.timeout_checker()
        slot = min(server._wheel)
        # Move the clock on by one tick: the wheel's next slot falls due.
        server._wheel[slot - 1] = server._wheel.pop(slot)
    assert protocol.checks >= 2

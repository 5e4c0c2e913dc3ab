"""editor.serve on an address that other machines can reach: guidance, and no development key."""

import shutil
import subprocess
from pathlib import Path

import pytest

from editor.serve import LISTEN_BACKLOG, _bind_address, _is_loopback, with_backlog
from tests.support.server import Database, LiveServer
from tests.support.services import missing

PUBLISHED_KEY = "dev-only-insecure-key-change-me"  # the key this repository used to ship


@pytest.fixture
def database():
    database = Database("embedded")
    yield database
    database.drop()


def test_a_development_key_is_refused_on_a_non_loopback_address(database):
    server = LiveServer(database, env={"HOST": "0.0.0.0", "SECRET_KEY": PUBLISHED_KEY})
    with pytest.raises(RuntimeError, match="daphne exited") as refused:
        server.start()
    message = str(refused.value)
    assert "Refusing to listen on 0.0.0.0 with a development SECRET_KEY" in message
    for needed in ("reverse proxy with TLS", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"):
        assert needed in message, f"the guidance should name {needed}"


def test_the_generated_key_serves_on_a_non_loopback_address_with_guidance(database):
    server = LiveServer(database, env={"HOST": "0.0.0.0"}).start()  # no SECRET_KEY: this install's own key
    try:
        log = server.log()
        assert "A safe deployment needs" in log and "ALLOWED_HOSTS" in log, log
        assert "Refusing" not in log
    finally:
        server.stop()


def test_loopback_addresses_need_no_guidance():
    assert all(_is_loopback(host) for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"))
    assert not any(_is_loopback(host) for host in ("0.0.0.0", "::", "192.168.1.10", "docs.example.com"))


def test_a_bind_option_overrides_host():
    assert _bind_address(["-b", "0.0.0.0", "--proxy-headers"], "127.0.0.1") == "0.0.0.0"
    assert _bind_address(["--proxy-headers"], "127.0.0.1") == "127.0.0.1"


def test_endpoints_get_a_listen_backlog_unless_they_name_one():
    assert with_backlog(["tcp:port=8000:interface=127.0.0.1", "unix:/run/a.sock", "fd:fileno=3",
                         "tcp:port=1:interface=::1:backlog=7"], 1024) == [
        "tcp:port=8000:interface=127.0.0.1:backlog=1024", "unix:/run/a.sock:backlog=1024", "fd:fileno=3",
        "tcp:port=1:interface=::1:backlog=7"]


def test_the_server_listens_with_a_backlog_for_a_reconnect_storm(database):
    if shutil.which("ss") is None:  # scripts/test installs iproute2; under CI a missing tool fails
        missing("ss (Debian package iproute2) to read a listening socket's backlog")
    # Twisted's default of 50 drops the SYNs of a reconnect storm: those clients retry a second later.
    server = LiveServer(database).start()
    try:
        listening = subprocess.run(["ss", "-Hltn", f"sport = :{server.port}"], capture_output=True, text=True,
                                   check=True).stdout.split()
        backlog = int(listening[2])  # State Recv-Q Send-Q: a listener's Send-Q is its backlog
        assert backlog >= min(LISTEN_BACKLOG, int(Path("/proc/sys/net/core/somaxconn").read_text())), listening
    finally:
        server.stop()

"""The production topology on this machine: Debian's nginx running deploy/nginx.conf in front of
Daphne processes on PostgreSQL + Redis, each with the environment docker-compose.yml gives the app.

    with Topology(3) as topology:             # 3 processes, nginx in front; all stopped after
        topology.proxy.url                    # http://127.0.0.1:<port>, what users reach
        topology.proxy.document_ws(doc)       # ws://... through the proxy
        topology.restart(topology.servers[0]) # SIGTERM, start again, wait until /readyz says ready

nginx runs as the current user with its prefix, temporary files, logs and pid
under a temporary directory, on an ephemeral port. deploy/nginx.conf is used as
it is, except for what only Docker has (bench/proxy.py's render, shared with
the bench, says exactly what); each substitution must match once, so a change
to the file that the harness no longer understands fails the tests instead of
testing something else.
"""

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.proxy import render
from tests.support import compose
from tests.support.server import REDIS_TEST_URL, Database, LiveServer, ServiceMissing, free_port, require_redis, \
    run_manage

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
# A Daphne process starts in seconds, but on a machine shared by many test runs it has taken over 30 s.
STARTUP_TIMEOUT = 120.0


def require_nginx() -> str:
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if path is None:
        raise ServiceMissing("nginx (Debian package nginx: scripts/test installs it)")
    return path


class Nginx:
    def __init__(self, upstream_ports: list[int], port: int | None = None):
        self.binary = require_nginx()
        self.upstream_ports = list(upstream_ports)
        self.port = port or free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="collab-nginx-")
        self.dir = Path(self._tmp.name)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    origin = url  # what a browser on the proxy's pages sends as Origin

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def document_ws(self, document_id) -> str:
        return f"{self.ws_url}/ws/documents/{document_id}/"

    def start(self, timeout: float = 15.0) -> "Nginx":
        conf = self.dir / "nginx.conf"
        conf.write_text(render(NGINX_CONF.read_text(), self.upstream_ports, self.port, self.dir, access_log=True,
                               error_level="info"))
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.dir), "-c", str(conf), "-e", str(self.dir / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)  # readiness probe: nothing to await before the port opens
        raise RuntimeError(f"nginx did not listen within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # fast shutdown: open WebSockets need not drain
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._tmp.cleanup()

    def log(self) -> str:
        try:
            return (self.dir / "error.log").read_text(errors="replace")[-10000:]
        except FileNotFoundError:
            return ""


def status(url: str, timeout: float = 3.0) -> int | None:
    """The HTTP status of GET `url`; None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


# Readiness, as the Dockerfile's HEALTHCHECK and compose's proxy probe it (tests/topology/test_compose.py).
READY_PATH = "/readyz"


def wait_ready(server: LiveServer, timeout: float = 60.0) -> None:
    """Until the process's /readyz answers 200 (blocking; run it in a thread beside clients)."""
    deadline = time.monotonic() + timeout
    while status(server.url + READY_PATH) != 200:
        if time.monotonic() > deadline:
            raise AssertionError(f"{server.url}/readyz not ready within {timeout}s:\n{server.log()}")
        time.sleep(0.1)  # a readiness probe, as an orchestrator polls it


def collected_static(data_dir: Path, env: dict) -> None:
    """Give `data_dir` the static files collectstatic makes for DEBUG=0 (hashed and compressed copies).

    Collecting compresses some 40 MB (the editor bundle, the admin's and the API docs' assets): a
    minute of CPU. So it runs once per content of those sources and stays in the temporary directory;
    `data_dir/static` links to it (read-only use: WhiteNoise only reads it).
    """
    from importlib.metadata import version

    key = hashlib.sha256(" ".join(version(p) for p in ("django", "django-ninja", "whitenoise")).encode())
    for path in sorted((ROOT / "frontend" / "static").rglob("*")):
        if path.is_file():
            key.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    cache = Path(tempfile.gettempdir()) / "collab-test-static" / key.hexdigest()[:16]
    if not cache.is_dir():
        cache.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="staging-", dir=cache.parent))
        run_manage({**env, "DATA_DIR": str(staging)}, "collectstatic", "--noinput", "-v0")
        try:
            (staging / "static").rename(cache)
        except OSError:  # another run collected the same meanwhile
            pass
        shutil.rmtree(staging, ignore_errors=True)
    (data_dir / "static").symlink_to(cache, target_is_directory=True)


def app_environment(database: Database, proxy_origin: str, secret_dir: Path) -> dict[str, str]:
    """docker-compose.yml's app environment, with only the addresses and the shared key's path made local."""
    env = compose.app_environment()
    local = {
        "DATABASE_URL": database.url,
        "REDIS_URL": REDIS_TEST_URL,
        "SECRET_KEY_FILE": str(secret_dir / "secret_key"),
        # compose's default is its published origin, http://localhost:8080; here the proxy's own.
        "CSRF_TRUSTED_ORIGINS": proxy_origin,
        # compose's is its network; here nginx connects to the processes from 127.0.0.1.
        "TRUSTED_PROXIES": "127.0.0.1",
    }
    assert local.keys() <= env.keys(), f"docker-compose.yml no longer sets {sorted(local.keys() - env.keys())}"
    return {**env, **local}


class Topology:
    """`count` Daphne processes with compose's app environment on one PostgreSQL database and Redis,
    nginx with deploy/nginx.conf in front. Raises ServiceMissing if PostgreSQL, Redis or nginx is."""

    def __init__(self, count: int = 3, env: dict | None = None):
        require_nginx()
        require_redis()
        self.database = Database("postgres")
        self.proxy_port = free_port()
        self.env = {**app_environment(self.database, f"http://127.0.0.1:{self.proxy_port}",
                                      Path(self.database._tmp.name) / "secret"), **(env or {})}
        self.servers = [LiveServer(self.database, redis=True, env=self.env) for _ in range(count)]
        self.proxy: Nginx | None = None

    def __enter__(self) -> "Topology":
        try:
            self.database.migrate()
            # DEBUG is off, as in compose: static files are served from the collected, hashed copies.
            collected_static(Path(self.database.env["DATA_DIR"]), {**self.database.env, **self.env})
            for server in self.servers:
                server.start(timeout=STARTUP_TIMEOUT)
                wait_ready(server)
            self.proxy = Nginx([s.port for s in self.servers], self.proxy_port).start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        for server in self.servers:
            if server.process is not None and server.process.poll() is None:
                server.process.send_signal(signal.SIGCONT)  # a test may leave one paused
            server.kill()
        self.database.drop()

    def restart(self, server: LiveServer) -> None:
        """A rolling deploy's step: SIGTERM (the process saves its documents and releases their leases),
        start again on the same port, wait until /readyz says ready. Blocking."""
        server.stop(signal.SIGTERM)
        server.start(timeout=STARTUP_TIMEOUT)
        wait_ready(server)

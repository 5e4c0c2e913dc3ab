"""Real servers for integration tests: Daphne subprocesses on 127.0.0.1.

A LiveServer has its own database (a SQLite file, or a fresh PostgreSQL
database) and, in the production set-up, a Redis channel layer. Tests talk to
it only as clients do (HTTP, WebSocket) and seed it through `django()`, which
runs code against the same database in a subprocess.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


class ServiceMissing(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_postgres() -> None:
    import psycopg

    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
    except Exception as exc:
        raise ServiceMissing(f"PostgreSQL at {POSTGRES_ADMIN_URL}: {exc}") from exc


def require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=3).ping()
    except Exception as exc:
        raise ServiceMissing(f"Redis at {REDIS_TEST_URL}: {exc}") from exc


class Database:
    """A database of its own for one test server (or several sharing it)."""

    def __init__(self, backend: str):
        self.backend = backend
        self._tmp = tempfile.TemporaryDirectory(prefix="collab-test-")
        if backend == "postgres":
            import psycopg

            require_postgres()
            self.name = f"collab_test_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
            self.url = f"{base}/{self.name}"
        else:
            self.url = f"sqlite:///{self._tmp.name}/db.sqlite3"
        self.env = {"DATABASE_URL": self.url, "DATA_DIR": self._tmp.name}
        self.migrated = False

    def migrate(self) -> None:
        if not self.migrated:
            run_manage(self.env, "migrate", "--noinput", "-v0")
            self.migrated = True

    def drop(self) -> None:
        if self.backend == "postgres":
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._tmp.cleanup()


def _env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLAB_", "DATABASE_URL", "REDIS_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "editor.settings", "PYTHONUNBUFFERED": "1", "DEBUG": "1"})
    env.update(extra)
    return env


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    """`manage.py args` with the settings in `env` (on top of the test environment); whatever its exit code."""
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=_env(env), capture_output=True, text=True, timeout=120
    )


def run_manage(env: dict, *args: str) -> str:
    """`manage` that must succeed; its standard output."""
    result = manage(env, *args)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class LiveServer:
    def __init__(self, database: Database, *, redis: bool = False, env: dict | None = None):
        self.database = database
        self.port = free_port()
        self.env = dict(database.env)
        if redis:
            require_redis()
            self.env["REDIS_URL"] = REDIS_TEST_URL
            # Rate-limit counters are keyed by user id, which every test database starts at 1: a server
            # of its own per database, or another run's API flood (schemathesis) answers this one's 429.
            self.env.setdefault("CACHE_KEY_PREFIX", Path(database._tmp.name).name)
        # Short intervals so that tests see snapshots and idle stops quickly.
        self.env.setdefault("COLLAB_SNAPSHOT_INTERVAL", "2")
        self.env.setdefault("COLLAB_IDLE_TIMEOUT", "2")
        self.env.update(env or {})
        self.process: subprocess.Popen | None = None
        self.log_path = Path(database._tmp.name) / f"daphne-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def document_ws(self, document_id) -> str:
        return f"{self.ws_url}/ws/documents/{document_id}/"

    def start(self, timeout: float = 30.0) -> "LiveServer":
        self.database.migrate()
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "editor.serve"],
            cwd=ROOT, env=_env({**self.env, "PORT": str(self.port)}), stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited with {self.process.returncode}:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)  # readiness probe: nothing to await before the port opens
        raise RuntimeError(f"daphne did not listen within {timeout}s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-20000:]
        except FileNotFoundError:
            return ""

    def django(self, code: str):
        """Run `code` with Django set up against this server's database; returns its `result`."""
        script = (
            "import django, json; django.setup()\n"
            "result = None\n" + code + "\nprint('\\n__RESULT__' + json.dumps(result, default=str))\n"
        )
        proc = subprocess.run(
            [PYTHON, "-c", script], cwd=ROOT, env=_env(self.env), capture_output=True, text=True, timeout=120
        )
        if proc.returncode != 0:
            raise RuntimeError(f"django() failed:\n{proc.stderr}")
        return json.loads(proc.stdout.rsplit("__RESULT__", 1)[1])

    def stored_content(self, document_id) -> str:
        """The document as the store would load it (latest snapshot + log), as XML."""
        return self.django(
            "from documents.storage import DocumentStorage\nfrom pycrdt import Doc, XmlFragment\n"
            f"d = Doc()\nfor u in DocumentStorage().load('{document_id}', None).updates: d.apply_update(u)\n"
            "result = str(d.get('default', type=XmlFragment))"
        )

    def seed(self, users=(), documents=()):
        """Create users (with an API token each) and documents with roles.

        users: usernames; documents: dicts {"owner": name, "title": str, "roles": {name: role}}.
        Returns {"tokens": {user: token}, "documents": [ids]}.
        """
        spec = json.dumps({"users": list(users), "documents": list(documents)})
        return self.django(
            "from django.contrib.auth import get_user_model\n"
            "from documents.services import document_create, membership_set, token_create\n"
            f"spec = json.loads({spec!r})\n"
            "User = get_user_model()\n"
            "tokens = {}\n"
            "for name in spec['users']:\n"
            "    user = User.objects.create_user(name, password=name + '-password')\n"
            "    tokens[name] = token_create(user=user, name='test')[1]\n"
            "ids = []\n"
            "for d in spec['documents']:\n"
            "    doc = document_create(owner=User.objects.get(username=d['owner']), title=d.get('title', ''))\n"
            "    for name, role in d.get('roles', {}).items():\n"
            "        membership_set(document=doc, user=User.objects.get(username=name), role=role)\n"
            "    ids.append(str(doc.pk))\n"
            "result = {'tokens': tokens, 'documents': ids}\n"
        )


@contextlib.contextmanager
def own_server(backend: str, env: dict | None = None):
    """A started LiveServer on a database of its own, for a module whose tests share one set-up
    (`env`); skipped locally or failed under CI when a service is missing; stopped and dropped after."""
    from tests.support.services import missing

    try:
        database = Database(backend)
        server = LiveServer(database, redis=backend == "postgres", env=env).start()
    except ServiceMissing as exc:
        missing(str(exc))
    try:
        yield server
    finally:
        server.stop()
        database.drop()


@contextlib.asynccontextmanager
async def behind_database_proxy(env: dict | None = None):
    """A started LiveServer on PostgreSQL reached through a TcpProxy, to stage a database outage.

    Yields (server, proxy): `proxy.disconnect()` cuts the database off, `proxy.reconnect()` brings
    it back. PostgreSQL only (skipped locally, failed under CI when it is missing). The proxy runs
    on this event loop: call the server's blocking methods through a thread.
    """
    import asyncio

    from tests.support.services import missing
    from tests.support.tcpproxy import TcpProxy

    try:
        require_postgres()
    except ServiceMissing as exc:
        missing(str(exc))
    database = Database("postgres")
    database.migrate()
    proxy = await TcpProxy("127.0.0.1", 5432).start()
    proxied = database.url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    server = LiveServer(database, env={"DATABASE_URL": proxied, **(env or {})})
    try:
        await asyncio.to_thread(server.start)
        yield server, proxy
    finally:
        await asyncio.to_thread(server.kill)
        await proxy.close()
        database.drop()

"""The two servers under test, each started fresh per scenario on 127.0.0.1.

- `OurServer`: `python -m editor.serve` (Daphne) on a database of its own
  (a temporary SQLite file, the embedded default, or a fresh PostgreSQL
  database), seeded like tests/support/server.py does: users, documents and
  an API token through the documents services, in a subprocess.
- `PeerServer`: the reference Node server `@y/websocket-server`, installed by
  npm into bench/.peer/ (gitignored) from the pinned bench/peer/package.json.

Both are pinned to `cpus` with sched_setaffinity before exec, so every thread
they start stays there.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER_SPEC = Path(__file__).resolve().parent / "peer"
PEER_DIR = ROOT / "bench" / ".peer"
PEER_MAIN = PEER_DIR / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
# Our server allows COLLAB_MAX_CONNECTIONS_PER_USER (default 50) connections per user.
CLIENTS_PER_USER = 40
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pinned(cpus):
    def preexec():
        os.setsid()  # its own process group: stopping it never reaches the runner
        if cpus:
            os.sched_setaffinity(0, set(cpus))
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return preexec


def _wait_listening(proc: subprocess.Popen, port: int, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-4000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)  # readiness probe: nothing to await before the port opens
    raise RuntimeError(f"server did not listen on {port} within {timeout}s")


class _Process:
    name = "server"
    proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    # Both servers speak y-websocket on the same path, log to log_path, and stop on SIGTERM.
    log_path = None
    stop_timeout = 20.0

    def path(self, document: str) -> str:
        return f"/ws/documents/{document}/"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self, timeout: float | None = None) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout or self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()


class PostgresDatabase:
    """A fresh database on the local PostgreSQL (trust auth), dropped afterwards."""

    def __init__(self):
        import psycopg

        self.name = f"bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + self.name

    def stats(self) -> dict:
        """Counters of this database: commits, rows written per table, WAL position, sizes."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            db = conn.execute(
                "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted, blks_hit + blks_read "
                "FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()
            tables = {
                name: {"ins": ins, "upd": upd, "del": dele, "bytes": size}
                for name, ins, upd, dele, size in conn.execute(
                    "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, pg_total_relation_size(relid) "
                    "FROM pg_stat_user_tables"
                ).fetchall()
            }
            lsn = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0]
        return {"commits": db[0], "inserted": db[1], "updated": db[2], "deleted": db[3],
                "tables": tables, "wal_lsn": int(lsn)}

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class OurServer(_Process):
    stop_timeout = 30.0  # a final snapshot of every open document
    name = "ours"

    def __init__(self, *, cpus=None, database: str = "sqlite", env: dict | None = None):
        self.cpus = cpus
        self.port = free_port()
        self.tmp = tempfile.TemporaryDirectory(prefix="collab-bench-")
        self.postgres = PostgresDatabase() if database == "postgres" else None
        url = self.postgres.url if self.postgres else f"sqlite:///{self.tmp.name}/db.sqlite3"
        # Nothing of the caller's own configuration leaks in: only what is set here (and --server-env).
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("COLLAB_", "DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "SECURE_",
                                         "DATA_DIR", "ALLOWED_HOSTS", "LOG_LEVEL"))}
        self.env.update({
            "DJANGO_SETTINGS_MODULE": "editor.settings",
            "DATABASE_URL": url,
            "DATA_DIR": self.tmp.name,
            # Production settings, as `scripts/run` serves by default: DEBUG off (no per-query
            # bookkeeping), a secret key generated for this installation in DATA_DIR (named as a file,
            # which also lets --server-env REDIS_URL=... start), plain HTTP on loopback.
            "DEBUG": "0",
            "SECRET_KEY_FILE": str(Path(self.tmp.name) / "secret_key"),
            "SECURE_COOKIES": "0", "SECURE_SSL_REDIRECT": "0", "SECURE_HSTS_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        })
        self.env.update(env or {})
        self.log_path = Path(self.tmp.name) / "server.log"
        self.proc = None

    def _python(self, *args, timeout=300) -> str:
        result = subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                                timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{args[:2]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result.stdout

    def prepare(self, documents: int, clients_per_document: int = 1) -> None:
        """Migrate and seed documents and users, each user with an API token.

        Each user holds at most CLIENTS_PER_USER of the connections (the server
        limits connections per user, as it should); a document is owned by the
        user of its first client, and the others are its editors.
        """
        self._python("manage.py", "migrate", "--noinput", "-v0")
        total = documents * clients_per_document
        users = max(1, -(-total // CLIENTS_PER_USER))
        code = (
            "import django, json; django.setup()\n"
            "from django.contrib.auth import get_user_model\n"
            "from documents.services import document_create, membership_set, token_create\n"
            f"users, documents, per_doc, per_user = {users}, {documents}, {clients_per_document}, {CLIENTS_PER_USER}\n"
            "User = get_user_model()\n"
            "people = []\n"
            "for u in range(users):\n"
            "    person = User(username=f'bench{u}')\n"
            "    person.set_unusable_password()\n"
            "    person.save()\n"
            "    people.append(person)\n"
            "tokens = [token_create(user=p, name='bench')[1] for p in people]\n"
            "ops = User.objects.create(username='bench-ops', is_staff=True)\n"  # reads /healthz/collab
            "ops_token = token_create(user=ops, name='bench stats')[1]\n"
            "ids = []\n"
            "for d in range(documents):\n"
            "    owners = sorted({(d * per_doc + c) // per_user for c in range(per_doc)})\n"
            "    doc = document_create(owner=people[owners[0]], title=f'bench {d}')\n"
            "    for u in owners[1:]:\n"
            "        membership_set(document=doc, user=people[u], role='editor')\n"
            "    ids.append(str(doc.pk))\n"
            "print('__RESULT__' + json.dumps({'tokens': tokens, 'documents': ids, 'ops': ops_token}))\n"
        )
        seeded = json.loads(self._python("-c", code).rsplit("__RESULT__", 1)[1])
        self.tokens = seeded["tokens"]
        self.ops_token = seeded["ops"]
        self.documents = seeded["documents"]
        self.clients_per_document = clients_per_document

    def headers_for(self, document: int, client: int = 0) -> dict:
        """The Authorization header of the given client of the given document (0: its owner)."""
        user = (document * self.clients_per_document + client) // CLIENTS_PER_USER
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def writer_stats(self) -> dict | None:
        """The group commit's counters (transactions, writes committed) from /healthz/collab; None if unreadable."""
        import urllib.request

        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/healthz/collab",
                                         headers={"Authorization": f"Bearer {self.ops_token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read()).get("writer")
        except (OSError, ValueError):
            return None

    def start(self, timeout: float = 60.0) -> "OurServer":
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "editor.serve"], cwd=ROOT, env={**self.env, "PORT": str(self.port),
                                                                  "HOST": "127.0.0.1"},
            stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=_pinned(self.cpus),
        )
        _wait_listening(self.proc, self.port, self.log_path, timeout)
        return self

    def restart(self) -> None:
        """Stop and start again on the same database: every document is cold (loaded from it on next use)."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        if self.postgres is not None:
            self.postgres.drop()
        self.tmp.cleanup()

    @staticmethod
    def version() -> dict:
        import daphne
        import django
        import pycrdt

        return {"python": sys.version.split()[0], "django": django.__version__, "daphne": daphne.__version__,
                "pycrdt": getattr(pycrdt, "__version__", "?")}


def ensure_peer_installed() -> Path:
    """npm-install the pinned peer into bench/.peer/ (once; reused afterwards)."""
    spec = json.loads((PEER_SPEC / "package.json").read_text())
    installed = PEER_DIR / "package.json"
    if PEER_MAIN.exists() and installed.exists() and json.loads(installed.read_text()) == spec:
        return PEER_MAIN
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install the peer (@y/websocket-server)")
    PEER_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy(PEER_SPEC / "package.json", PEER_DIR / "package.json")
    if (PEER_SPEC / "package-lock.json").exists():
        shutil.copy(PEER_SPEC / "package-lock.json", PEER_DIR / "package-lock.json")
    # --ignore-scripts: the LevelDB persistence it imports has a native build step; we never use it
    # (no YPERSISTENCE) and leveldown ships prebuilt binaries anyway.
    cmd = [npm, "ci" if (PEER_DIR / "package-lock.json").exists() else "install",
           "--no-audit", "--no-fund", "--ignore-scripts"]
    result = subprocess.run(cmd, cwd=PEER_DIR, capture_output=True, text=True, timeout=600)
    if result.returncode != 0 or not PEER_MAIN.exists():
        raise RuntimeError(f"installing the peer failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return PEER_MAIN


class PeerServer(_Process):
    name = "peer"

    def __init__(self, *, cpus=None):
        self.cpus = cpus
        self.port = free_port()
        self.tmp = tempfile.TemporaryDirectory(prefix="peer-bench-")
        self.log_path = Path(self.tmp.name) / "server.log"
        self.proc = None
        self.documents: list[str] = []

    def prepare(self, documents: int, clients_per_document: int = 1) -> None:
        # The reference server accepts any room name and needs no auth.
        self.documents = [str(uuid.uuid4()) for _ in range(documents)]

    def headers_for(self, document: int, client: int = 0) -> dict:
        return {}

    def restart(self) -> None:
        """Nothing: the peer keeps documents in memory only, so a restart would lose them, not make them cold."""

    def start(self, timeout: float = 30.0) -> "PeerServer":
        main = ensure_peer_installed()
        self._log = open(self.log_path, "ab")
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port)}
        env.pop("YPERSISTENCE", None)  # in memory, like its default
        self.proc = subprocess.Popen(["node", str(main)], cwd=PEER_DIR, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, preexec_fn=_pinned(self.cpus))
        _wait_listening(self.proc, self.port, self.log_path, timeout)
        return self

    def cleanup(self) -> None:
        self.tmp.cleanup()

    @staticmethod
    def version() -> dict:
        versions = {"node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()}
        for name in ("@y/websocket-server", "yjs", "ws"):
            pkg = PEER_DIR / "node_modules" / name / "package.json"
            if pkg.exists():
                versions[name] = json.loads(pkg.read_text())["version"]
        return versions

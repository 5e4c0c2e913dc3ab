"""Debian's nginx running deploy/nginx.conf in front of local Daphne processes, as the current user.

`render` is the one place that turns the production file into a loopback one,
for the bench (NginxProxy, below) and the test suite (tests/support/proxy.py).
Only what a loopback run must change, each substitution matching exactly once
(a change to deploy/nginx.conf that it no longer understands fails loudly
instead of running something else):

- the `app` upstream's `server app:8000 ...;` becomes one line per local
  process, with the same parameters;
- `listen 80;` becomes `listen 127.0.0.1:<port>;` (no root, no clash);
- the paths nginx writes (pid, error log, temporary files, access log) go to
  `prefix` (Debian's compiled-in /var/lib/nginx and /var/log/nginx are root's;
  the nginx Docker image has its own), and nginx stays in the foreground;
- optionally a larger `worker_connections` (a bench run holds more sockets).
"""

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .servers import ROOT, _pinned, _wait_listening, free_port

CONFIG = ROOT / "deploy" / "nginx.conf"
# Each proxied socket holds two connections (client side and upstream side).
WORKER_CONNECTIONS = 16384

# The address compose's app processes listen on, as the upstream names it (Docker's DNS gives every replica).
COMPOSE_UPSTREAM = re.compile(r"^(\s*)server app:8000( [^;]*)?;$", re.M)
COMPOSE_LISTEN = re.compile(r"^(\s*)listen 80;$", re.M)
HTTP_BLOCK = re.compile(r"^http \{$", re.M)
EVENTS_BLOCK = re.compile(r"^events \{[^}]*\}", re.M)


def _substitute(pattern: re.Pattern, replacement, text: str) -> str:
    result, count = pattern.subn(replacement, text)
    if count != 1:
        raise ValueError(f"{CONFIG}: expected exactly one match of {pattern.pattern!r}, found {count}")
    return result


def render(config: str, upstreams: list[int], port: int, prefix: Path, *, access_log: bool = False,
           worker_connections: int | None = None, error_level: str = "warn") -> str:
    """deploy/nginx.conf made to run on loopback under `prefix`, in front of `upstreams` (ports)."""
    config = _substitute(COMPOSE_UPSTREAM, lambda m: "\n".join(
        f"{m.group(1)}server 127.0.0.1:{p}{m.group(2) or ''};" for p in upstreams), config)
    config = _substitute(COMPOSE_LISTEN, lambda m: f"{m.group(1)}listen 127.0.0.1:{port};", config)
    local = "".join(f"    {kind}_temp_path {prefix / kind};\n" for kind in
                    ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    local += f"    access_log {prefix / 'access.log' if access_log else 'off'};\n"
    config = _substitute(HTTP_BLOCK, "http {\n" + local.rstrip("\n"), config)
    main = [f"pid {prefix / 'nginx.pid'};", f"error_log {prefix / 'error.log'} {error_level};", "daemon off;"]
    if worker_connections is not None:
        config = _substitute(EVENTS_BLOCK, f"events {{ worker_connections {worker_connections}; }}", config)
        main.append(f"worker_rlimit_nofile {2 * worker_connections + 64};")
    if os.geteuid() == 0:  # as root nginx would hand its workers to "nobody": keep them ours
        main.append(f"user {pwd.getpwuid(os.getuid()).pw_name};")
    return "\n".join(main) + "\n" + config


class NginxProxy:
    def __init__(self, upstreams: list[int], *, cpus=None, config: Path = CONFIG):
        self.nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(self.nginx).exists():
            raise RuntimeError("nginx is needed (Debian: apt-get install nginx-light or nginx)")
        self.cpus = cpus
        self.port = free_port()
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-nginx-")
        self.prefix = Path(self.tmp.name)
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(render(config.read_text(), upstreams, self.port, self.prefix,
                                    worker_connections=WORKER_CONNECTIONS))
        self.log_path = self.prefix / "error.log"
        self.log_path.touch()
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> "NginxProxy":
        check = subprocess.run([self.nginx, "-t", "-p", str(self.prefix), "-c", str(self.conf)],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused its configuration:\n{check.stderr[-3000:]}")
        self.proc = subprocess.Popen([self.nginx, "-p", str(self.prefix), "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=open(self.log_path, "ab"),
                                     preexec_fn=_pinned(self.cpus))
        _wait_listening(self.proc, self.port, self.log_path, timeout)
        return self

    def pids(self) -> list[int]:
        """The master and its workers (their CPU is the proxy's)."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            children = []
        return [self.proc.pid, *map(int, children)]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # fast shutdown: a graceful one would wait for every socket
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self) -> None:
        self.tmp.cleanup()

"""Debian's nginx running deploy/nginx.conf in front of local Daphne processes, as the current user.

The production file, with only what a loopback run must change: the `app`
upstream's servers become the given 127.0.0.1 ports, `listen 80` a free
loopback port, and the paths nginx writes (pid, logs, temporary files) go to
a temporary prefix. `events {}` without a connection count gets one large
enough for the run (nginx's default of 512 holds 256 proxied sockets).

(tests/support/proxy.py starts the same file for the test suite; the two are
to be unified.)
"""

import os
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


def render(config: str, upstreams: list[int], port: int, prefix: Path) -> str:
    """deploy/nginx.conf made to run on loopback under `prefix`, in front of `upstreams` (ports)."""
    servers = "".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in upstreams)
    block = re.search(r"upstream app \{.*?\n\s*\}", config, re.S)
    if block is None:
        raise ValueError(f"{CONFIG} has no `upstream app {{...}}` block to point at the processes")
    body = re.sub(r"^\s*server\s+[^;]+;\n", "", block.group(0), flags=re.M)
    body = body.replace("upstream app {", "upstream app {\n" + servers.rstrip("\n"), 1)
    config = config.replace(block.group(0), body)
    config, listens = re.subn(r"listen\s+80\s*;", f"listen 127.0.0.1:{port};", config)
    if not listens:
        raise ValueError(f"{CONFIG} has no `listen 80;` to move to a loopback port")
    config = re.sub(r"events\s*\{[^}]*\}", f"events {{ worker_connections {WORKER_CONNECTIONS}; }}", config)
    temp = "".join(f"    {kind}_temp_path {prefix / kind};\n" for kind in
                   ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    config = config.replace("http {", "http {\n    access_log off;\n" + temp, 1)
    main = [f"pid {prefix / 'nginx.pid'};", f"error_log {prefix / 'error.log'} warn;", "daemon off;",
            f"worker_rlimit_nofile {2 * WORKER_CONNECTIONS + 64};"]
    if os.geteuid() == 0:
        main.append("user root;")  # workers stay the current user, who owns the prefix
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
        self.conf.write_text(render(config.read_text(), upstreams, self.port, self.prefix))
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

"""Clients we did not write, in Node (yjs + y-websocket, pinned in tests/clients/package.json)."""

import os
import shutil
import subprocess
from pathlib import Path

from tests.support.services import missing

CLIENTS = Path(__file__).resolve().parents[1] / "clients"


def node_runner():
    """run(script, *args, env={}, timeout=120) -> CompletedProcess, for a script in tests/clients;
    skips locally, fails under CI, when Node or the installed packages are missing."""
    if shutil.which("node") is None:
        missing("node (Node.js)")
    if not (CLIENTS / "node_modules" / "y-websocket").is_dir():
        missing("tests/clients/node_modules: run scripts/test, or npm ci in tests/clients")

    def run(script, *args, env=None, timeout=120):
        return subprocess.run(["node", script, *args], cwd=CLIENTS, env={**os.environ, **(env or {})},
                              capture_output=True, text=True, timeout=timeout)
    return run

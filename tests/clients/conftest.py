"""Clients we did not write (y-websocket in Node, pycrdt's Provider) against a live server.

The Node packages are pinned in package.json / package-lock.json here and
installed by scripts/test (`npm ci`).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.services import missing

HERE = Path(__file__).resolve().parent


@pytest.fixture
def node():
    """run(script, *args, env={}) -> CompletedProcess, for a script in this directory."""
    if shutil.which("node") is None:
        missing("node (Node.js)")
    if not (HERE / "node_modules" / "y-websocket").is_dir():
        missing("tests/clients/node_modules: run scripts/test, or npm ci in tests/clients")

    def run(script, *args, env=None, timeout=120):
        return subprocess.run(["node", script, *args], cwd=HERE, env={**os.environ, **(env or {})},
                              capture_output=True, text=True, timeout=timeout)
    return run


@pytest.fixture
def provider(node):
    """provider(**options) -> the outcome provider.mjs printed (see there)."""
    def run(**options):
        result = node("provider.mjs", json.dumps(options))
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])
    return run


@pytest.fixture
def python_example():
    def run(*args, env):
        return subprocess.run([sys.executable, "example.py", *args], cwd=HERE, env={**os.environ, **env},
                              capture_output=True, text=True, timeout=120)
    return run

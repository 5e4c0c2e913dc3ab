"""Clients we did not write (y-websocket in Node, pycrdt's Provider) against a live server.

The Node packages are pinned in package.json / package-lock.json here and
installed by scripts/test (`npm ci`).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.node import node_runner

HERE = Path(__file__).resolve().parent


@pytest.fixture
def node():
    """run(script, *args, env={}) -> CompletedProcess, for a script in this directory."""
    return node_runner()


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

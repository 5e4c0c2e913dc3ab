"""schemathesis against the live API's own /api/openapi.json, with every check.

It generates requests from the schema, both fitting and deliberately not fitting (wrong types,
bounds, media types, methods the path does not have, no credentials), and in sequences that
follow the links between operations (create, then read, rename, delete). Every answer must be
what the schema says: a documented status and content type, a body of the documented shape, no
5xx, fitting requests accepted and unfitting ones refused.

The server gets generous rate limits: the run is a few hundred requests in seconds, and a 429
is not what this test is about (tests/api/test_throttle.py is).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Per operation and phase; together about 500 requests, under a minute.
MAX_EXAMPLES = 15


def schemathesis_command() -> list[str]:
    installed = Path(sys.executable).with_name("st")
    return [str(installed)] if installed.exists() else [shutil.which("st") or "st"]


# Once, on the production set-up (PostgreSQL + Redis: the stricter database): the contract is the
# same on both, and a run costs most of a minute.
@pytest.mark.parametrize("backend", ["postgres"])
def test_the_api_conforms_to_its_schema(server_factory, unique, tmp_path):
    server = server_factory(env={"API_RATE_LIMIT": "100000/min", "API_UNAUTHENTICATED_RATE_LIMIT": "100000/min"})
    server.start()
    owner = f"{unique}st"
    token = server.seed(users=[owner], documents=[{"owner": owner, "title": "Probed"}])["tokens"][owner]

    command = [
        # Which answers count as accepting valid data, for the endpoints that parse imported content.
        *schemathesis_command(), "--config-file", str(Path(__file__).with_name("schemathesis.toml")),
        "run", f"{server.url}/api/openapi.json",
        "--checks", "all",
        "--max-examples", str(MAX_EXAMPLES),
        "--header", f"Authorization: Bearer {token}",
        "--generation-database", "none",
        "--request-timeout", "30",
        "--no-color",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)

    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)}\n{output[-20000:]}\n--- server log ---\n{server.log()[-5000:]}"
    assert "No issues found" in output, output[-5000:]

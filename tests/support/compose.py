"""docker-compose.yml as the tests read it (PyYAML): the app processes' environment, the health checks.

Docker cannot run on the test machines, so the tests run what compose
describes with local processes (tests/support/proxy.py) and check that the two
agree (tests/topology/test_compose.py).
"""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

_DEFAULTED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def interpolate(value) -> str:
    """A compose value as compose sets it when none of its ${NAME:-default} variables is given."""
    return _DEFAULTED.sub(lambda m: m.group(2) or "", str(value))


def service_environment(service: str) -> dict[str, str]:
    """The environment compose sets in `service`'s containers, at its defaults."""
    environment = compose()["services"][service].get("environment") or {}
    if isinstance(environment, list):  # the "NAME=value" form
        environment = dict(item.split("=", 1) for item in environment)
    return {name: interpolate(value) for name, value in environment.items()}


def app_environment() -> dict[str, str]:
    return service_environment("app")

"""Looking into a cluster of live servers (tests/collab/conftest.py::cluster) through Redis."""

import json

import redis

from tests.support.server import REDIS_TEST_URL


def lease_owner_port(servers, document_id) -> int | None:
    """The port of the process holding the document's lease, from Redis and the processes' reports."""
    client = redis.Redis.from_url(REDIS_TEST_URL)
    value = client.get(f"collab:lease:{document_id}")
    if value is None:
        return None
    channel = value.decode().split(" ")[0]
    report = client.get(f"collab:process:{channel}")
    if report is None:
        return None
    pid = int(json.loads(report)["name"].rsplit(":", 1)[1])
    return next(s.port for s in servers if s.process.pid == pid)

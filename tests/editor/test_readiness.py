"""/healthz is liveness, /readyz readiness (editor/health.py).

A process that cannot reach its database or Redis, or is shutting down, is alive but not ready:
a load balancer or orchestrator should send it nothing new, and must not restart it for that
(it keeps unsaved edits to retry once the database is back).
"""

import asyncio
import json

from django.test import RequestFactory

from editor import health, lifecycle
from tests.support.proxy import READY_PATH, status
from tests.support.server import Database, LiveServer, ServiceMissing, behind_database_proxy, require_postgres, \
    require_redis
from tests.support.services import missing
from tests.support.tcpproxy import TcpProxy
from tests.support.waits import wait_until


async def probe(server, path: str) -> int | None:
    return await asyncio.to_thread(status, server.url + path)


async def test_a_process_cut_off_from_its_database_is_alive_but_not_ready():
    async with behind_database_proxy() as (server, database):
        assert await probe(server, READY_PATH) == 200
        database.disconnect()
        assert await probe(server, READY_PATH) == 503
        assert await probe(server, "/healthz") == 200, "liveness does not depend on the database"
        database.reconnect()
        await wait_until(lambda: status(server.url + READY_PATH) == 200, timeout=30, blocking=True,
                         what="ready again once the database is back")


async def test_a_process_cut_off_from_redis_is_alive_but_not_ready():
    try:
        require_postgres()
        require_redis()
    except ServiceMissing as exc:
        missing(str(exc))
    database = Database("postgres")
    redis = await TcpProxy("127.0.0.1", 6379).start()
    server = LiveServer(database, env={"REDIS_URL": f"redis://127.0.0.1:{redis.port}/14"})
    try:
        await asyncio.to_thread(server.start)
        await wait_until(lambda: status(server.url + READY_PATH) == 200, timeout=30, blocking=True, what="ready")
        redis.disconnect()
        reply = await asyncio.to_thread(_get_json, server.url + READY_PATH)
        assert reply == (503, "redis unavailable")
        assert await probe(server, "/healthz") == 200
        redis.reconnect()
        await wait_until(lambda: status(server.url + READY_PATH) == 200, timeout=30, blocking=True,
                         what="ready again once Redis is back")
    finally:
        await asyncio.to_thread(server.kill)
        await redis.close()
        database.drop()


def _get_json(url: str):
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read()).get("status")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()).get("status")


def test_a_process_shutting_down_is_not_ready():
    # editor.serve sets the flag when Daphne's reactor begins to stop (SIGTERM), before the
    # documents are saved and the port closes; the view answers from it before any query.
    request = RequestFactory().get(READY_PATH)
    lifecycle.stopping.set()
    try:
        response = health.readyz(request)
    finally:
        lifecycle.stopping.clear()
    assert response.status_code == 503 and json.loads(response.content) == {"status": "shutting down"}
    assert health.healthz(request).status_code == 200

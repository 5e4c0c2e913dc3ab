"""Liveness and readiness for load balancers and orchestrators, and the engine's internals for staff.

/healthz is liveness: the process answers. It does not look at the database:
during a database outage the actors keep serving and keep unsaved edits to
retry (DESIGN.md), and restarting every process then would lose exactly those.
/readyz is readiness: send this process new work only while it can reach the
database and (if configured) Redis and is not shutting down.
"""

import threading

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse

from . import lifecycle

# A probe must answer within an orchestrator's timeout (the Dockerfile gives 3 s).
REDIS_TIMEOUT = 2.0

_redis = None
_redis_lock = threading.Lock()


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def _redis_client():
    """One client per process (probes come every few seconds: no new connection each time)."""
    global _redis
    with _redis_lock:
        if _redis is None:
            import redis

            _redis = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
        return _redis


def readyz(request):
    if lifecycle.stopping.is_set():
        return JsonResponse({"status": "shutting down"}, status=503)
    try:
        with connection.cursor() as cursor:  # a query, not just a connection: a kept one may have died
            cursor.execute("SELECT 1")
    except Exception as exc:
        return JsonResponse({"status": "database unavailable", "error": str(exc)[:200]}, status=503)
    if settings.REDIS_URL:
        try:
            _redis_client().ping()
        except Exception as exc:
            return JsonResponse({"status": "redis unavailable", "error": str(exc)[:200]}, status=503)
    return HttpResponse("ready", content_type="text/plain")


async def collab_stats(request):
    """Staff only (session or bearer token): this process's actors, tasks, sockets and memory."""
    from asgiref.sync import sync_to_async

    from collab.auth import bearer_token
    from collab.live import process_stats
    from documents.selectors import user_for_token

    user = await request.auser()
    raw = bearer_token(request.headers.get("Authorization"))
    if raw is not None:
        user = await sync_to_async(user_for_token)(raw)
    if user is None or not user.is_authenticated:
        return JsonResponse({"detail": "Authentication required"}, status=401)
    if not user.is_staff:
        return JsonResponse({"detail": "Staff only"}, status=403)
    return JsonResponse(await process_stats())

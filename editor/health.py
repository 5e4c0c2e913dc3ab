"""Liveness for load balancers, and the engine's internals for staff (leak checks, debugging)."""

from django.db import connection
from django.http import HttpResponse, JsonResponse


def healthz(request):
    try:
        connection.ensure_connection()
    except Exception as exc:  # the process is up but cannot serve documents
        return JsonResponse({"status": "database unavailable", "error": str(exc)[:200]}, status=503)
    return HttpResponse("ok", content_type="text/plain")


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

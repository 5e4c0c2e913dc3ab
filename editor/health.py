"""Liveness for load balancers and container healthchecks."""

from django.db import connection
from django.http import HttpResponse, JsonResponse


def healthz(request):
    try:
        connection.ensure_connection()
    except Exception as exc:  # the process is up but cannot serve documents
        return JsonResponse({"status": "database unavailable", "error": str(exc)[:200]}, status=503)
    return HttpResponse("ok", content_type="text/plain")

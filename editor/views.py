"""The project's error responses: our own pages, and JSON `{"detail": ...}` under /api/.

Django uses these when DEBUG is off (editor/urls.py's handler400/403/404/500
and CSRF_FAILURE_VIEW), for every path: pages, and /api/ paths that never
reach the API's router (an unknown endpoint, a malformed id, an error outside
it). Inside the router, django-ninja answers its own errors in the same shape.
In development mode Django shows its debug pages instead.
"""

from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults

API_PREFIX = "/api/"


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "The request was malformed."}, status=400)
    return defaults.bad_request(request, exception)  # 400.html, no request context: the host may be the problem


def permission_denied(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "You do not have permission to do this."}, status=403)
    return defaults.permission_denied(request, exception)  # 403.html


def api_not_found(request, *args, **kwargs):
    return JsonResponse({"detail": "There is nothing at this address."}, status=404)


def page_not_found(request, exception):
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)  # 404.html


def server_error(request):
    # No database access here (it may be what failed): 500.html is rendered without the request's context.
    if _is_api(request):
        return JsonResponse({"detail": "The server failed to handle this request. It has been logged."}, status=500)
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    if _is_api(request):
        return JsonResponse({"detail": "The CSRF check failed: send the X-CSRFToken header, or use a token."},
                            status=403)
    return render(request, "frontend/error.html", {
        "status": 403,
        "title": "This form has expired",
        "message": "Your browser did not send the form’s security check. Go back, reload the page and try again.",
    }, status=403)


def error_probe(request):
    """Raise, to show the server-error response (only with settings.ERROR_PROBE, for the tests)."""
    raise RuntimeError("forced server error (ERROR_PROBE)")

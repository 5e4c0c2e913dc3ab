"""The service worker that keeps editable documents for a reload without a network (issue 19).

Served from the site's root, not /static/, so that its scope covers /documents/;
never cached by the browser's HTTP cache, so that a new version is picked up on
the next visit. What it does: frontend/service_worker.js.
"""

from pathlib import Path

from django.http import HttpResponse
from django.views.decorators.http import require_GET

SOURCE = Path(__file__).with_name("service_worker.js")


@require_GET
def service_worker(request):
    response = HttpResponse(SOURCE.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts.api import router as sharing_api
from documents.api import api
from documents.images_http import serve_image

from . import views
from .health import collab_stats, healthz, readyz
from .metrics import metrics

# Share links and invitations (accounts) join the documents API here: documents knows nothing of accounts.
api.add_router("", sharing_api)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("healthz/collab", collab_stats, name="collab-stats"),
    path("metrics", metrics, name="metrics"),  # Prometheus, per process (editor/metrics.py)
    path("admin/", admin.site.urls),
    # Answers every /api/ path itself, unknown ones with a JSON 404 (documents/api_http.py).
    path("api/", api.urls),
    # An image in a document, to people with a role on it (documents/images_http.py).
    path("documents/<uuid:document_id>/images/<uuid:image_id>", serve_image, name="document-image"),
    path("", include("frontend.urls")),
]

if settings.ERROR_PROBE:  # the tests' way to cause a server error; off on every real server
    urlpatterns = [
        path("__error__", views.error_probe),
        path("api/__error__", views.error_probe),
        *urlpatterns,
    ]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error

from django.contrib import admin
from django.urls import include, path

from documents.api import api

from .health import collab_stats, healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/collab", collab_stats, name="collab-stats"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("frontend.urls")),
]

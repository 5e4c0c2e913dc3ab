from django.urls import path

from . import views

urlpatterns = [
    path("", views.document_list, name="document-list"),
    path("documents/<uuid:document_id>/", views.document_edit, name="document-edit"),
]

"""Versions (snapshots) in the admin: every version of every document, read-only."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from ..models import Snapshot


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    """Every version of every document, read-only: naming and restoring happen on a document's versions page."""

    list_display = ("created_at", "document_link", "kind", "label", "edited_by", "size")
    list_filter = ("kind", "created_at")
    search_fields = ("label", "document__title", "preview")
    list_select_related = ("document",)
    date_hierarchy = "created_at"
    # Counting every version of every document on each page view is slow on a big table.
    show_full_result_count = False
    fields = ("document", "created_at", "kind", "label", "edited_by", "size", "preview", "last_seq", "history_link")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("state", "state_vector")

    def has_add_permission(self, request):
        return False  # versions are taken by the engine

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting a document's newest version would lose the edits it holds
        # (the update-log rows it covers are gone); thinning is the job of
        # `manage.py thin_versions`, which never does that.
        return False

    @admin.display(description="document", ordering="document__title")
    def document_link(self, version):
        url = reverse("admin:documents_document_versions", args=[version.document_id])
        return format_html('<a href="{}">{}</a>', url, version.document)

    @admin.display(description="edited by")
    def edited_by(self, version):
        return ", ".join(version.authors or ()) or "—"

    @admin.display(description="in the document's history")
    def history_link(self, version):
        url = reverse("admin:documents_document_version", args=[version.document_id, version.pk])
        return format_html('<a href="{}">View, compare, restore</a>', url)

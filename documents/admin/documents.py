"""Documents in the admin: the list (with who is editing now) and each document's version
history, with its view, compare, name and restore pages."""

from asgiref.sync import async_to_sync
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from .. import history, titles
from ..diff import compare
from ..export.html import render_fragment
from ..models import Document, Membership, Snapshot

VERSIONS_PER_PAGE = 50
RESTORE_PERMISSION = "documents.restore_version"


def _live(request) -> dict[str, dict]:
    """Live actors' reports by document id, asked once per request."""
    if not hasattr(request, "_documents_live"):
        request._documents_live = history.open_documents()
    return request._documents_live


class OpenNowFilter(admin.SimpleListFilter):
    title = "open right now"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open"), ("no", "Not open")]

    def queryset(self, request, queryset):
        ids = list(_live(request))
        if self.value() == "yes":
            return queryset.filter(pk__in=ids)
        if self.value() == "no":
            return queryset.exclude(pk__in=ids)
        return queryset


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "version_count", "last_edited")  # + live columns, see get_list_display
    list_filter = (OpenNowFilter, "updated_at", "created_at")
    search_fields = ("title", "owner__username", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    fields = ("title", "owner", "id", "created_at", "updated_at", "versions_link")
    readonly_fields = ("id", "created_at", "updated_at", "versions_link")
    inlines = (MembershipInline,)
    date_hierarchy = "updated_at"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "title" in form.changed_data:
            # Live titles (documents.titles): editors who have it open see the new one at once.
            transaction.on_commit(lambda: async_to_sync(titles.announce)(obj.pk, obj.title))

    def get_queryset(self, request):
        # A correlated count on the (document, created_at) index: computed for
        # the rows of the page only, never a GROUP BY over every version.
        count = (
            Snapshot.objects.filter(document=OuterRef("pk"))
            .order_by()
            .values("document")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(
            version_count=Coalesce(Subquery(count, output_field=IntegerField()), 0)
        )

    def get_list_display(self, request):
        live = _live(request)

        @admin.display(description="open now", boolean=True)
        def open_now(document):
            return str(document.pk) in live

        @admin.display(description="editors connected")
        def editors_connected(document):
            report = live.get(str(document.pk))
            return report["subscribers"] if report else 0

        return (*self.list_display, open_now, editors_connected)

    @admin.display(description="versions", ordering="version_count")
    def version_count(self, document):
        url = reverse("admin:documents_document_versions", args=[document.pk])
        return format_html('<a href="{}">{}</a>', url, document.version_count)

    @admin.display(description="last edited", ordering="updated_at")
    def last_edited(self, document):
        return document.updated_at

    @admin.display(description="versions")
    def versions_link(self, document):
        if document._state.adding:  # a new document (its UUID is set before it is saved)
            return "—"
        url = reverse("admin:documents_document_versions", args=[document.pk])
        count = getattr(document, "version_count", None)
        if count is None:
            count = Snapshot.objects.filter(document=document).count()
        return format_html('<a href="{}">{} versions: browse, compare, restore</a>', url, count)

    def get_deleted_objects(self, objs, request):
        # Django's default lists every related row, loading each version's
        # encoded state: with thousands of versions the confirmation page
        # would crawl. The rows go in one cascade anyway; count them instead.
        documents = list(objs)
        ids = [document.pk for document in documents]
        versions = Snapshot.objects.filter(document_id__in=ids).count()
        roles = Membership.objects.filter(document_id__in=ids).count()
        summary = [format_html("Document: {}", document) for document in documents]
        summary.append(f"{versions} versions and the unsnapshotted update log")
        if roles:
            summary.append(f"{roles} roles of people on them")
        model_count = {"documents": len(documents), "versions": versions, "roles": roles}
        perms_needed = set() if self.has_delete_permission(request) else {"document"}
        return summary, model_count, perms_needed, []

    # --- version history pages ---------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<uuid:object_id>/versions/", wrap(self.versions_view), name="documents_document_versions"),
            path("<uuid:object_id>/versions/compare/", wrap(self.compare_view), name="documents_document_compare"),
            path(
                "<uuid:object_id>/versions/<int:version_id>/",
                wrap(self.version_view),
                name="documents_document_version",
            ),
            path(
                "<uuid:object_id>/versions/<int:version_id>/name/",
                wrap(require_POST(self.name_view)),
                name="documents_document_version_name",
            ),
            path(
                "<uuid:object_id>/versions/<int:version_id>/restore/",
                wrap(self.restore_view),
                name="documents_document_version_restore",
            ),
            *super().get_urls(),
        ]

    def _document(self, request, object_id) -> Document:
        document = self.get_object(request, str(object_id))
        if document is None:
            raise Http404("No such document")
        if not self.has_view_permission(request, document):
            raise PermissionDenied
        return document

    def _version(self, document, version_id) -> Snapshot:
        try:
            return history.version_get(document, version_id)
        except (Snapshot.DoesNotExist, ValueError, TypeError):
            raise Http404("No such version of this document") from None

    def _context(self, request, document, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "document": document,
            "original": document,
            "can_restore": request.user.has_perm(RESTORE_PERMISSION),
            "can_name": self.has_change_permission(request, document),
            **extra,
        }

    def versions_view(self, request, object_id):
        document = self._document(request, object_id)
        page = Paginator(history.versions_of(document), VERSIONS_PER_PAGE).get_page(request.GET.get("page"))
        context = self._context(request, document, title=f"Versions of “{document}”", page=page)
        return TemplateResponse(request, "admin/documents/document/versions.html", context)

    def version_view(self, request, object_id, version_id):
        document = self._document(request, object_id)
        version = self._version(document, version_id)
        # The renderer escapes all document text and drops unsafe link targets.
        content = mark_safe(render_fragment(bytes(version.state)))
        context = self._context(
            request,
            document,
            title=f"“{document}” at {version.created_at:%Y-%m-%d %H:%M:%S}",
            version=version,
            previous=history.version_before(version),
            content=content,
        )
        return TemplateResponse(request, "admin/documents/document/version.html", context)

    def compare_view(self, request, object_id):
        document = self._document(request, object_id)
        new_id, old_id = request.GET.get("to"), request.GET.get("from")
        new = self._version(document, new_id) if new_id else history.version_latest(document)
        if new is None:
            raise Http404("This document has no versions yet")
        old = self._version(document, old_id) if old_id else history.version_before(new)
        comparison = compare(bytes(old.state) if old is not None else b"", bytes(new.state))
        context = self._context(
            request,
            document,
            title=f"Changes to “{document}”",
            old=old,
            new=new,
            comparison=comparison,
            older=history.version_before(old) if old is not None else None,
            newer=history.version_after(new),
        )
        return TemplateResponse(request, "admin/documents/document/compare.html", context)

    def name_view(self, request, object_id, version_id):
        document = self._document(request, object_id)
        if not self.has_change_permission(request, document):
            raise PermissionDenied
        version = self._version(document, version_id)
        history.version_name(version=version, label=request.POST.get("label", ""))
        what = f"“{version.label}”" if version.label else "no name"
        when = f"{version.created_at:%Y-%m-%d %H:%M:%S}"
        self.log_change(request, document, f"Named version {version.pk} ({when}) {what}")
        self.message_user(request, f"The version of {version.created_at:%Y-%m-%d %H:%M:%S} now has {what}.")
        return HttpResponseRedirect(reverse("admin:documents_document_version", args=[document.pk, version.pk]))

    def restore_view(self, request, object_id, version_id):
        document = self._document(request, object_id)
        if not request.user.has_perm(RESTORE_PERMISSION):
            raise PermissionDenied
        version = self._version(document, version_id)
        if request.method == "POST":
            try:
                restored = history.version_restore(version=version, user=request.user)
            except Exception as exc:  # the engine's error, shown to the person who asked
                self.message_user(request, f"The restore failed: {exc}", messages.ERROR)
                return HttpResponseRedirect(request.path)
            self.log_change(
                request,
                document,
                f"Restored the version of {version.created_at:%Y-%m-%d %H:%M:%S} (version {version.pk}) "
                f"as version {restored.version.pk}; {restored.blocks_changed} blocks changed",
            )
            self.message_user(request, f"“{document}” is restored: {restored.version.label}.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:documents_document_versions", args=[document.pk]))
        comparison = compare(history.live_content(document), bytes(version.state))
        context = self._context(
            request,
            document,
            title=f"Restore “{document}” to {version.created_at:%Y-%m-%d %H:%M:%S}?",
            version=version,
            comparison=comparison,
            label=history.restore_label(version, request.user.get_username()),
        )
        return TemplateResponse(request, "admin/documents/document/restore.html", context)

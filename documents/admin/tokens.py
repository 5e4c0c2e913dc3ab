"""API tokens in the admin: made here for any user and shown once; only their hash is stored."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from ..models import ApiToken
from ..services import token_create, token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("__str__", "name", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "hint", "user__username")
    raw_id_fields = ("user",)
    actions = ["revoke_tokens"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "name")
        return ("user", "name", "hint", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("user", "hint", "created_at", "last_used_at", "revoked_at")

    def save_form(self, request, form, change):
        if change:
            return super().save_form(request, form, change)
        token, raw = token_create(user=form.cleaned_data["user"], name=form.cleaned_data["name"])
        token.raw = raw  # for response_add only; never stored
        return token

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)  # a new token was saved by token_create

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)  # a token has no relations to save

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "token": obj,
            "raw": obj.raw,
            "title": "API token created",
        }
        response = TemplateResponse(request, "admin/documents/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_tokens(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            token_revoke(token=token)
        self.message_user(request, f"Revoked {len(tokens)} token(s).", messages.SUCCESS)

"""The pages. Thin: check who may do what, call a service or selector, render.

Access to a document is decided by `documents.selectors.document_role`; a
refusal renders a proper error page (403 for a document that is not shared
with the caller, 404 for one that does not exist) rather than a broken editor.
"""

from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors as sharing_selectors
from accounts import services as sharing
from accounts.mail import send_invitation
from accounts.models import grantable_roles
from documents import search, titles
from documents import services as document_services
from documents.models import COMMENT_ROLES, WRITE_ROLES, ApiToken, Document, Role
from documents.ratelimit import user_retry_after
from documents.selectors import NoSuchDocument, document_role, documents_visible_to

from . import forms, selectors
from documents.people import person


def error_page(request, status: int, title: str, message: str):
    return render(request, "frontend/error.html", {"status": status, "title": title, "message": message}, status=status)


def too_many_requests(request, retry_after: int, title: str, message: str):
    response = error_page(request, 429, title, message)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(view):
    """Counts a POST against the user's request budget, the one the REST API uses (API_RATE_LIMIT):
    a script cannot go on creating or sharing through the pages once the API has said 429."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST":
            retry_after = user_retry_after(request)
            if retry_after is not None:
                return too_many_requests(
                    request, retry_after, "Too many requests",
                    f"You have made too many changes in a short time. Try again in {retry_after} seconds.",
                )
        return view(request, *args, **kwargs)

    return wrapper


def sign_in_locked(request, original_response=None, credentials=None):
    """django-axes' answer to a sign-in refused after too many wrong passwords (product and admin)."""
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return too_many_requests(
        request, int(settings.AXES_COOLOFF_TIME.total_seconds()), "Too many failed sign-ins",
        f"Signing in to this account from your address is paused for {minutes} minutes after "
        f"{settings.AXES_FAILURE_LIMIT} wrong passwords. Try again later.",
    )


def document_view(*, roles):
    """Resolve `document_id` to (document, role) for a signed-in user holding one of `roles`."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(request, document_id, *args, **kwargs):
            try:
                role = document_role(request.user, document_id)
            except NoSuchDocument:
                return error_page(
                    request, 404, "Document not found",
                    "There is no document at this address. It may have been deleted.",
                )
            if role is None:
                return error_page(
                    request, 403, "You don’t have access",
                    "This document has not been shared with you. Ask its owner to share it with "
                    f"“{request.user.get_username()}”.",
                )
            if role not in roles:
                return error_page(
                    request, 403, "Not allowed",
                    f"As {Role(role).label.lower()} of this document you cannot do this.",
                )
            document = get_object_or_404(Document.objects.select_related("owner"), pk=document_id)
            return view(request, document, Role(role), *args, **kwargs)

        return wrapper

    return decorate


def _wants_fragment(request) -> bool:
    # Sent by frontend/js (pages.js, title.js) when a form is submitted in place.
    return request.headers.get("X-Requested-With") == "fetch"


def _next_or(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


# --- the document list ------------------------------------------------------------


# Documents per page of the list: a page stays small however many documents are shared with someone.
DOCUMENTS_PER_PAGE = 50


@require_GET
@login_required
def document_list(request):
    query = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    if query:
        documents = search.matching(request.user, query)
    else:
        documents = documents_visible_to(request.user).order_by("-updated_at", "-pk")
    page = Paginator(documents, DOCUMENTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = selectors.document_rows(request.user, page.object_list)
    if query:
        found = search.snippets(query, rows)
        for row in rows:
            row.snippet = found.get(row.pk, ())
    return render(
        request,
        "frontend/document_list.html",
        {"documents": rows, "page": page, "me": person(request.user), "query": query},
    )


@require_POST
@login_required
@rate_limited
def document_new(request):
    form = forms.TitleForm(request.POST)
    title = form.cleaned_data["title"] if form.is_valid() else ""
    document = document_services.document_create(owner=request.user, title=title)
    return redirect("document-edit", document_id=document.pk)


@require_POST
@document_view(roles=WRITE_ROLES)
def document_rename(request, document, role):
    form = forms.TitleForm(request.POST)
    if not form.is_valid():
        if _wants_fragment(request):
            return JsonResponse({"errors": form.errors}, status=400)
        messages.error(request, "A title can have at most %d characters." % forms.TITLE_MAX)
        return redirect(_next_or(request, reverse("document-list")))
    document = titles.rename(document, form.cleaned_data["title"])
    if _wants_fragment(request):
        return JsonResponse({"title": document.title})
    messages.success(request, f"Renamed to “{document.title}”.")
    return redirect(_next_or(request, reverse("document-list")))


@require_POST
@document_view(roles={Role.OWNER})
def document_delete(request, document, role):
    title = document.title
    document_services.document_delete(document=document)
    messages.success(request, f"Deleted “{title}”.")
    return redirect("document-list")


# --- sharing ------------------------------------------------------------------------

SHARE_LINK_ACTIONS = {"link-create", "link-revoke", "invitation-cancel"}


def _share_add(request, document) -> forms.ShareAddForm:
    form = forms.ShareAddForm(request.POST, document=document)
    if form.is_valid():
        user, role = form.cleaned_data["user"], Role(form.cleaned_data["role"])
        if user is None:  # an address with no account yet: an invitation by e-mail
            email = form.cleaned_data["email"]
            invitation, raw = sharing.invitation_create(document=document, email=email, role=role,
                                                        invited_by=request.user)
            send_invitation(request, invitation, raw)
            messages.success(request, f"Invited {email}: they will get an e-mail with a link.")
        else:
            document_services.membership_set(document=document, user=user, role=role)
            messages.success(request, f"Shared with {user.get_username()}.")
    return form


def _share_link(request, document) -> None:
    """Make a share link, revoke one, or withdraw an invitation (the share dialog's other forms)."""
    action = request.POST.get("action")
    if action == "link-create":
        form = forms.ShareLinkForm(request.POST)
        if form.is_valid():
            days = form.cleaned_data["days"]
            sharing.link_create(document=document, role=Role(form.cleaned_data["role"]), created_by=request.user,
                                lifetime=timedelta(days=days) if days else None)
            messages.success(request, "Link created: anyone who signs in through it gets its role.")
        else:
            messages.error(request, "Choose a role and how long the link works.")
    elif action == "link-revoke":
        form = forms.ShareLinkRevokeForm(request.POST)
        link = document.share_links.filter(pk=form.cleaned_data["link_id"]).first() if form.is_valid() else None
        if link is not None:
            sharing.link_revoke(link=link)
            messages.success(request, "Link turned off. People who joined through it keep their role.")
    elif action == "invitation-cancel":
        form = forms.InvitationCancelForm(request.POST)
        invitation = (document.invitations.filter(pk=form.cleaned_data["invitation_id"], accepted_at__isnull=True)
                      .first() if form.is_valid() else None)
        if invitation is not None:
            sharing.invitation_cancel(invitation=invitation)
            messages.success(request, f"Withdrew the invitation to {invitation.email}.")


def _share_change(request, document) -> None:
    change = forms.ShareChangeForm(request.POST)
    member = None
    if change.is_valid():
        wanted = change.cleaned_data["user_id"]
        member = next((m for m in selectors.document_members(document) if m.user_id == wanted), None)
    if member is None:
        messages.error(request, "That person no longer has a role on this document.")
        return
    role = Role(change.cleaned_data["role"]) if change.cleaned_data["role"] else None
    document_services.membership_set(document=document, user=member.user, role=role)
    name = member.user.get_username()
    messages.success(request, f"Removed {name}." if role is None else f"{name} is now {role.label.lower()}.")


@require_http_methods(["GET", "POST"])
@login_required
@rate_limited
@document_view(roles={Role.OWNER})
def document_share(request, document, role):
    """The share dialog: a page of its own, or a fragment swapped into the editor's dialog."""
    add_form = None
    if request.method == "POST":
        if request.POST.get("action") == "add":
            add_form = _share_add(request, document)
        elif request.POST.get("action") in SHARE_LINK_ACTIONS:
            _share_link(request, document)
        else:
            _share_change(request, document)
        if add_form is not None and add_form.is_valid():
            add_form = None
        if add_form is None and not _wants_fragment(request):
            return redirect(_next_or(request, reverse("document-share", args=[document.pk])))
    context = _share_context(request, document, add_form)
    template = "frontend/_share_panel.html" if _wants_fragment(request) else "frontend/share.html"
    return render(request, template, context, status=400 if add_form is not None else 200)


def _share_context(request, document, add_form=None) -> dict:
    return {
        "document": document,
        "members": selectors.document_members(document),
        "owner": person(document.owner),
        "add_form": add_form or forms.ShareAddForm(document=document),
        "role_choices": forms.SHARE_ROLES,
        "share_url": reverse("document-share", args=[document.pk]),
        "invitations": sharing_selectors.pending_invitations(document),
        "links": [(link, request.build_absolute_uri(reverse("share-link-open", args=[link.key])))
                  for link in sharing_selectors.active_links(document)],
        "link_roles": grantable_roles(),
        "link_lifetimes": forms.LINK_LIFETIMES,
    }


# --- the editor --------------------------------------------------------------------


@require_GET
@document_view(roles=set(Role))
def document_edit(request, document, role):
    can_write = role in WRITE_ROLES
    can_comment = role in COMMENT_ROLES  # issue 20: owners, editors and commenters comment
    me = person(request.user)
    config = {
        "documentId": str(document.pk),
        "wsPath": "/ws/documents",
        "user": me.as_dict(),
        "role": role.value,
        "canWrite": can_write,
        "renameUrl": reverse("document-rename", args=[document.pk]) if can_write else None,
        # Comments (issue 20): what the panel offers; the API decides in the end.
        "canComment": can_comment,
        "canResolve": can_write,
        "isOwner": role == Role.OWNER,
        "shareUrl": reverse("document-share", args=[document.pk]) if role == Role.OWNER else None,
        "shareRoles": forms.SHARE_ROLES if role == Role.OWNER else [],
    }
    exports = [
        ("Markdown", "md", ".md"),
        ("HTML", "html", ".html"),
        ("Plain text", "txt", ".txt"),
        ("ProseMirror JSON", "json", ".json"),
        ("PDF", "pdf", ".pdf"),
        ("Word", "docx", ".docx"),
    ]
    return render(
        request,
        "frontend/editor.html",
        {
            "document": document,
            "role": role,
            "can_write": can_write,
            "can_comment": can_comment,
            "is_owner": role == Role.OWNER,
            "me": me,
            "config": config,
            "exports": [
                {"label": label, "url": f"/api/documents/{document.pk}/export?format={fmt}", "ext": ext}
                for label, fmt, ext in exports
            ],
            "history_url": f"/admin/documents/document/{document.pk}/versions/",
            **(_share_context(request, document) if role == Role.OWNER else {}),
        },
    )


# --- API tokens -----------------------------------------------------------------------


# The raw secret of a token just made waits here for the one page view that shows it.
NEW_TOKEN_SESSION_KEY = "frontend.new_api_token"


@require_http_methods(["GET", "POST"])
@login_required
def token_list(request):
    form = forms.TokenForm()
    if request.method == "POST":
        form = forms.TokenForm(request.POST)
        if form.is_valid():
            _token, raw = document_services.token_create(user=request.user, name=form.cleaned_data["name"])
            # Post/redirect/get, so that a reload cannot make a second token; the
            # secret is shown by the next page view and then forgotten.
            request.session[NEW_TOKEN_SESSION_KEY] = raw
            return redirect("token-list")
    created_raw = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    response = render(
        request,
        "frontend/tokens.html",
        {"tokens": selectors.tokens_of(request.user), "form": form, "created_raw": created_raw},
        status=400 if form.errors else 200,
    )
    if created_raw:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def token_revoke(request, token_id):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    document_services.token_revoke(token=token)
    messages.success(request, f"Revoked the token {token.hint}….")
    return HttpResponseRedirect(reverse("token-list"))

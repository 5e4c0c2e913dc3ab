from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.forms import SignInForm

from . import offline, views

urlpatterns = [
    path("", views.document_list, name="document-list"),
    path("documents/new/", views.document_new, name="document-new"),
    path("documents/<uuid:document_id>/", views.document_edit, name="document-edit"),
    path("documents/<uuid:document_id>/rename/", views.document_rename, name="document-rename"),
    path("documents/<uuid:document_id>/delete/", views.document_delete, name="document-delete"),
    path("documents/<uuid:document_id>/share/", views.document_share, name="document-share"),
    path("account/tokens/", views.token_list, name="token-list"),
    path("account/tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
    # device (issue 19): the offline service worker, at the root so that its scope covers /documents/.
    path("service-worker.js", offline.service_worker, name="service-worker"),
    # Before Django's own routes, so that a signed-in visitor of the sign-in page goes to their documents.
    path("accounts/login/", auth_views.LoginView.as_view(
        redirect_authenticated_user=True, authentication_form=SignInForm), name="login"),
    # Django's sign-out and password change; sign-up, confirmation and password reset are allauth's
    # (accounts/urls.py), so is the rest of /accounts/.
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(
        template_name="accounts/password_change.html"), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(
        template_name="accounts/password_change_done.html"), name="password_change_done"),
    path("", include("accounts.urls")),
]

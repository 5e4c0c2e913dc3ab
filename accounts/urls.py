from django.urls import include, path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("invitations/<str:key>/", views.invitation_open, name="invitation-open"),
    path("links/<str:key>/", views.link_open, name="share-link-open"),
    # allauth: sign-up, e-mail confirmation, password reset. Its sign-in, sign-out and password
    # change are Django's (frontend/urls.py, before this), which django-axes throttles; allauth's
    # own password change page leads there, so that there is one.
    path("accounts/password/change/", RedirectView.as_view(pattern_name="password_change"),
         name="account_change_password"),
    path("accounts/", include("allauth.urls")),
]

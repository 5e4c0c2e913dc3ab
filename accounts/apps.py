from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who gets in: sign-up (django-allauth, with this product's policy), invitations by e-mail and
    share links. Depends on `documents` (roles, memberships); nothing in `documents` depends on it."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

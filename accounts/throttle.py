"""Which account a sign-in attempt is for, as django-axes counts failures (AXES_USERNAME_CALLABLE).

The sign-in field takes a username or an e-mail address, and allauth's backend matches them without
regard to case: counted as typed, "ann", "ANN" and "ann@example.com" would each get their own
allowance of wrong passwords for the same account. Counted here by the account they name (its
username), or, naming none, by what was typed in lower case.
"""

from django.contrib.auth import get_user_model


def attempted_account(request, credentials=None) -> str:
    typed = (credentials or {}).get("username")
    if typed is None:
        typed = getattr(request, "data", request.POST).get("username", "") if request is not None else ""
    typed = (typed or "").strip()
    if not typed:
        return typed
    User = get_user_model()
    user = User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": typed}).order_by("pk").first()
    if user is None and "@" in typed:
        from allauth.account.models import EmailAddress

        address = EmailAddress.objects.filter(email__iexact=typed).select_related("user").order_by("-verified").first()
        user = address.user if address else User.objects.filter(email__iexact=typed).order_by("pk").first()
    return user.get_username() if user is not None else typed.lower()

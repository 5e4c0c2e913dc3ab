"""Who may make an account through the product's pages: the operator's sign-up policy.

SIGNUP_ENABLED (default on) opens the sign-up page to every visitor; off, only someone holding a
pending invitation (opened from its e-mail) may sign up. SIGNUP_EMAIL_DOMAINS, when set, limits
every new account made through the pages (open sign-up and invitations alike) to addresses at
those domains. Accounts an administrator makes (admin, createsuperuser) are not subject to it.
"""

from django.conf import settings


def allowed_domains() -> list[str]:
    return [d.lower().lstrip("@") for d in settings.SIGNUP_EMAIL_DOMAINS]


def domain_allowed(email: str) -> bool:
    """Whether an account may be made for `email` under SIGNUP_EMAIL_DOMAINS (any, when unset)."""
    domains = allowed_domains()
    if not domains:
        return True
    return email.rsplit("@", 1)[-1].lower() in domains


def domain_refusal() -> str:
    domains = allowed_domains()
    listed = ", ".join(f"@{d}" for d in domains)
    return f"Accounts can only be made for addresses at {listed}."

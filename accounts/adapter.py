"""django-allauth, bent to this product's sign-up policy (accounts/policy.py) and invitations."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django import forms
from django.conf import settings

from . import policy, sessions


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        """Open to all with SIGNUP_ENABLED; otherwise to the holder of an invitation they opened."""
        return settings.SIGNUP_ENABLED or sessions.invitation_pending(request)

    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        if not policy.domain_allowed(email):
            raise forms.ValidationError(policy.domain_refusal())
        request = context.request
        signing_up = request is not None and not request.user.is_authenticated
        if signing_up and not settings.SIGNUP_ENABLED and not sessions.invited(request, email):
            raise forms.ValidationError("Sign-up is by invitation: use the address your invitation was sent to.")
        return email

from allauth.account.models import EmailAddress
from django import forms
from django.contrib.auth.forms import AuthenticationForm


class SignInForm(AuthenticationForm):
    """Django's sign-in form (django-axes throttles it; allauth's backend lets the username field take
    an e-mail address too) that also refuses an account whose address is not confirmed yet.

    E-mail verification is mandatory for accounts made by sign-up: SIGNUP_EMAIL_DOMAINS and
    invitations mean something only if the address is proven. Accounts an administrator made have
    no address record of allauth's and are vouched for by that administrator."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "unverified": "Confirm your e-mail address first: we have sent a link to %(email)s. "
                      "Follow it, then sign in.",
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        addresses = list(EmailAddress.objects.filter(user=user))
        if addresses and not any(a.verified for a in addresses):
            # Rate limited by allauth (one e-mail per address every few minutes).
            from allauth.account.internal.flows.email_verification import send_verification_email_for_user

            send_verification_email_for_user(self.request, user)
            raise forms.ValidationError(
                self.error_messages["unverified"], code="unverified", params={"email": addresses[0].email}
            )

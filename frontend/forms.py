from django import forms

from accounts import policy as signup_policy
from accounts.models import grantable_roles
from accounts.services import user_by_email
from documents.models import Document, Role

from . import selectors

TITLE_MAX = Document._meta.get_field("title").max_length
# What each role that can be given may do, in `Role`'s order (most powerful first): a role added to `Role`
# needs its wording here, else it is offered with its label.
_CAN = {Role.EDITOR: "Can edit", Role.COMMENTER: "Can comment", Role.VIEWER: "Can view"}
SHARE_ROLES = [(value, _CAN.get(Role(value), label)) for value, label in grantable_roles()]


class TitleForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX, required=False, strip=True)


class ShareAddForm(forms.Form):
    """Share with a username, or with an e-mail address: its account if there is one, else an
    invitation by e-mail (`cleaned_data["email"]`, with no `user`)."""

    username = forms.CharField(max_length=254, strip=True)
    role = forms.ChoiceField(choices=SHARE_ROLES, initial=Role.EDITOR.value)

    def __init__(self, *args, document, **kwargs):
        super().__init__(*args, **kwargs)
        self.document = document

    def clean_username(self):
        username = self.cleaned_data["username"]
        user = selectors.user_by_username(username)
        if user is None and "@" in username:
            email = forms.EmailField().clean(username)
            user = user_by_email(email)
            if user is None:
                if not signup_policy.domain_allowed(email):
                    raise forms.ValidationError(f"{signup_policy.domain_refusal()} Cannot invite {email}.")
                self.cleaned_data["user"], self.cleaned_data["email"] = None, email
                return username
        if user is None:
            raise forms.ValidationError(f"There is no user named “{username}”. To invite someone, enter their e-mail address.")
        if user.pk == self.document.owner_id:
            raise forms.ValidationError("That is the owner of this document.")
        self.cleaned_data["user"] = user
        return username


class ShareChangeForm(forms.Form):
    """Change a member's role; the empty role removes them."""

    user_id = forms.IntegerField()
    role = forms.ChoiceField(choices=[*SHARE_ROLES, ("", "Remove")], required=False)


# How long a new share link works: (value in days, label); 0 is "until turned off".
LINK_LIFETIMES = [("0", "No expiry"), ("1", "1 day"), ("7", "7 days"), ("30", "30 days")]


class ShareLinkForm(forms.Form):
    role = forms.ChoiceField(choices=grantable_roles)
    days = forms.TypedChoiceField(choices=LINK_LIFETIMES, coerce=int, initial="0")


class ShareLinkRevokeForm(forms.Form):
    link_id = forms.IntegerField()


class InvitationCancelForm(forms.Form):
    invitation_id = forms.IntegerField()


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, strip=True)

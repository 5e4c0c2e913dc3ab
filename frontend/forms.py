from django import forms

from documents.models import Document, Role

from . import selectors

TITLE_MAX = Document._meta.get_field("title").max_length
SHARE_ROLES = [(Role.EDITOR.value, "Can edit"), (Role.VIEWER.value, "Can view")]


class TitleForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX, required=False, strip=True)


class ShareAddForm(forms.Form):
    username = forms.CharField(max_length=150, strip=True)
    role = forms.ChoiceField(choices=SHARE_ROLES, initial=Role.EDITOR.value)

    def __init__(self, *args, document, **kwargs):
        super().__init__(*args, **kwargs)
        self.document = document

    def clean_username(self):
        username = self.cleaned_data["username"]
        user = selectors.user_by_username(username)
        if user is None:
            raise forms.ValidationError(f"There is no user named “{username}”.")
        if user.pk == self.document.owner_id:
            raise forms.ValidationError("That is the owner of this document.")
        self.cleaned_data["user"] = user
        return username


class ShareChangeForm(forms.Form):
    """Change a member's role; the empty role removes them."""

    user_id = forms.IntegerField()
    role = forms.ChoiceField(choices=[*SHARE_ROLES, ("", "Remove")], required=False)


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, strip=True)

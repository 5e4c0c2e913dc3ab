"""Invitations by e-mail and share links, in-process (Django's test client, locmem e-mail): what an
owner can make, what a visitor gets, and that revoking a link takes nothing from anyone."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from accounts.models import ShareLink, grantable_roles
from documents.models import Role
from documents.selectors import document_role
from documents.services import document_create, membership_set

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def owner():
    return get_user_model().objects.create_user("olga", "olga@example.com", PASSWORD)


@pytest.fixture
def document(owner):
    return document_create(owner=owner, title="Plans")


def signed_in(client_class, user):
    client = client_class()
    client.force_login(user)
    return client


def share(client, document, **fields):
    return client.post(f"/documents/{document.pk}/share/", fields)


def test_link_roles_come_from_the_model_without_the_owner():
    assert grantable_roles() == [(r.value, r.label) for r in Role if r != Role.OWNER]
    assert Role.OWNER.value not in dict(grantable_roles())


def test_an_invitation_to_a_new_address_is_accepted_through_sign_up(client, owner, document, settings):
    settings.SIGNUP_ENABLED = False  # invitations still let their addressee in
    owner_client = signed_in(client.__class__, owner)
    reply = share(owner_client, document, action="add", username="newbie@example.com", role="editor")
    assert reply.status_code == 302
    [message] = mail.outbox
    assert message.to == ["newbie@example.com"] and "Plans" in message.subject
    invite_path = re.search(r"http://testserver(/invitations/\S+/)", message.body).group(1)
    assert 'data-email="newbie@example.com"' in owner_client.get(f"/documents/{document.pk}/share/").content.decode()

    welcome = client.get(invite_path)
    assert welcome.status_code == 200 and "olga invited you" in welcome.content.decode()
    # Sign-up is closed but for the invited address.
    other = client.post(f"/accounts/signup/?next={invite_path}", {
        "email": "someone-else@example.com", "username": "else", "password1": PASSWORD, "password2": PASSWORD,
    })
    assert "use the address your invitation was sent to" in other.content.decode()
    # The address is proven by the link: sign-up signs in at once, no second e-mail.
    signup = client.post(f"/accounts/signup/?next={invite_path}", {
        "email": "newbie@example.com", "username": "newbie", "password1": PASSWORD, "password2": PASSWORD,
    })
    assert signup.status_code == 302 and signup["Location"] == invite_path, signup.get("Location")
    assert len(mail.outbox) == 1
    accepted = client.get(invite_path)
    assert accepted.status_code == 302 and accepted["Location"] == f"/documents/{document.pk}/"
    newbie = get_user_model().objects.get(username="newbie")
    assert document_role(newbie, document.pk) == Role.EDITOR
    # Spent: a second visitor finds a clear page.
    assert client.__class__().get(invite_path).status_code == 410


def test_an_address_with_an_account_is_shared_with_directly(client, owner, document):
    friend = get_user_model().objects.create_user("fred", "fred@example.com", PASSWORD)
    share(signed_in(client.__class__, owner), document, action="add", username="FRED@example.com", role="viewer")
    assert document_role(friend, document.pk) == Role.VIEWER and not mail.outbox


def test_invitations_respect_the_e_mail_domains(client, owner, document, settings):
    settings.SIGNUP_EMAIL_DOMAINS = ["example.com"]
    reply = share(signed_in(client.__class__, owner), document, action="add", username="x@elsewhere.org", role="viewer")
    assert reply.status_code == 400 and "Cannot invite x@elsewhere.org" in reply.content.decode()
    assert not mail.outbox


def test_only_the_owner_makes_links_and_revoking_keeps_those_who_joined(client, owner, document):
    User = get_user_model()
    editor = User.objects.create_user("ed", password=PASSWORD)
    membership_set(document=document, user=editor, role=Role.EDITOR)
    assert share(signed_in(client.__class__, editor), document, action="link-create", role="viewer", days="0").status_code == 403
    assert not ShareLink.objects.exists()

    owner_client = signed_in(client.__class__, owner)
    share(owner_client, document, action="link-create", role="viewer", days="7")
    link = ShareLink.objects.get()
    assert link.role == "viewer" and timedelta(days=6) < link.expires_at - timezone.now() <= timedelta(days=7)
    assert f"/links/{link.key}/" in owner_client.get(f"/documents/{document.pk}/share/").content.decode()

    first, second = User.objects.create_user("first"), User.objects.create_user("second")
    anonymous = client.get(f"/links/{link.key}/")
    assert anonymous.status_code == 200 and "Sign in" in anonymous.content.decode()
    assert signed_in(client.__class__, first).get(f"/links/{link.key}/")["Location"] == f"/documents/{document.pk}/"
    assert document_role(first, document.pk) == Role.VIEWER
    # A viewer link never demotes an editor.
    signed_in(client.__class__, editor).get(f"/links/{link.key}/")
    assert document_role(editor, document.pk) == Role.EDITOR

    share(owner_client, document, action="link-revoke", link_id=str(link.pk))
    refused = signed_in(client.__class__, second).get(f"/links/{link.key}/")
    assert refused.status_code == 410 and "This link no longer works" in refused.content.decode()
    assert document_role(second, document.pk) is None
    assert document_role(first, document.pk) == Role.VIEWER


def test_an_expired_link_stops_working(client, owner, document):
    link = ShareLink.objects.create(document=document, role="editor", key="k" * 32, created_by=owner,
                                    expires_at=timezone.now() - timedelta(seconds=1))
    user = get_user_model().objects.create_user("late")
    assert signed_in(client.__class__, user).get(f"/links/{link.key}/").status_code == 410
    assert client.get("/links/no-such-key/").status_code == 410


def test_a_newcomer_signs_up_through_a_link_confirms_and_lands_in_the_document(client, owner, document):
    link = ShareLink.objects.create(document=document, role="editor", key="n" * 32, created_by=owner)
    here = f"/links/{link.key}/"
    welcome = client.get(here).content.decode()
    assert f'href="/accounts/signup/?next=%2Flinks%2F{link.key}%2F"' in welcome
    signup = client.post(f"/accounts/signup/?next={here}", {
        "email": "walker@example.com", "username": "walker", "password1": PASSWORD, "password2": PASSWORD,
    })
    assert signup["Location"] == "/accounts/confirm-email/"
    confirm = re.search(r"http://testserver(/\S+)", mail.outbox[-1].body).group(1)
    assert client.post(confirm)["Location"] == here
    assert client.get(here)["Location"] == f"/documents/{document.pk}/"
    assert document_role(get_user_model().objects.get(username="walker"), document.pk) == Role.EDITOR

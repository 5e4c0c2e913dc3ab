"""Sign-up, e-mail verification, password reset and the sign-up policy, in-process (Django's test
client, the locmem e-mail backend): the rules, fast. The browser tests (tests/browser/test_accounts.py)
walk the same flows on a real server."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def sign_up(client, email, username, next_url=None):
    path = "/accounts/signup/" + (f"?next={next_url}" if next_url else "")
    return client.post(path, {"email": email, "username": username, "password1": PASSWORD, "password2": PASSWORD})


def link_in(message) -> str:
    return re.search(r"http://testserver(/\S+)", message.body).group(1)


def sign_in(client, login, password=PASSWORD):
    return client.post("/accounts/login/", {"username": login, "password": password})


def test_sign_up_needs_the_confirmation_link_then_signs_in(client):
    reply = sign_up(client, "ann@example.com", "ann")
    assert reply.status_code == 302 and reply["Location"] == "/accounts/confirm-email/"
    assert not get_user_model().objects.get(username="ann").emailaddress_set.get().verified
    [message] = mail.outbox
    assert message.to == ["ann@example.com"] and message.subject.startswith("[Coedit]")

    # Not confirmed yet: the sign-in page says so (and nobody is signed in).
    other = client.__class__()
    refused = sign_in(other, "ann")
    assert refused.status_code == 200 and "Confirm your e-mail address first" in refused.content.decode()
    assert "_auth_user_id" not in other.session

    confirm = link_in(message)
    page = client.get(confirm)
    assert page.status_code == 200 and "Confirm" in page.content.decode()
    done = client.post(confirm)
    assert done.status_code == 302
    assert client.get("/").status_code == 200, "confirming in the browser that signed up signs in"
    assert EmailAddress.objects.get(email="ann@example.com").verified
    # By username or by e-mail address, in a new browser.
    assert sign_in(client.__class__(), "ann").status_code == 302
    assert sign_in(client.__class__(), "ANN@example.com").status_code == 302


def test_accounts_made_by_an_administrator_sign_in_without_an_address(client):
    get_user_model().objects.create_user("root", password=PASSWORD)
    assert sign_in(client, "root").status_code == 302


def test_password_reset_by_e_mail(client):
    sign_up(client, "bob@example.com", "bob")
    client.post(link_in(mail.outbox[0]))
    mail.outbox.clear()
    visitor = client.__class__()
    assert visitor.get("/accounts/password/reset/").status_code == 200
    sent = visitor.post("/accounts/password/reset/", {"email": "bob@example.com"})
    assert sent.status_code == 302
    [message] = mail.outbox
    form_url = visitor.get(link_in(message))["Location"]  # allauth moves the key into the session
    changed = visitor.post(form_url, {"password1": "a new long password", "password2": "a new long password"})
    assert changed.status_code == 302
    assert sign_in(client.__class__(), "bob", "a new long password").status_code == 302
    assert sign_in(client.__class__(), "bob").status_code == 200


def test_the_sign_in_page_links_sign_up_and_password_reset(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/signup/"' in page and 'href="/accounts/password/reset/"' in page


def test_sign_up_can_be_closed(client, settings):
    settings.SIGNUP_ENABLED = False
    page = client.get("/accounts/signup/")
    assert "Sign-up is closed" in page.content.decode()
    sign_up(client, "eve@example.com", "eve")
    assert not get_user_model().objects.filter(username="eve").exists()
    assert "/accounts/signup/" not in client.get("/accounts/login/").content.decode()


def test_sign_up_can_be_limited_to_e_mail_domains(client, settings):
    settings.SIGNUP_EMAIL_DOMAINS = ["example.com", "@corp.example"]
    refused = sign_up(client, "mallory@elsewhere.org", "mallory")
    assert refused.status_code == 200
    assert "Accounts can only be made for addresses at @example.com, @corp.example." in refused.content.decode()
    assert not get_user_model().objects.filter(username="mallory").exists()
    assert sign_up(client, "carol@CORP.example", "carol").status_code == 302


def test_wrong_passwords_count_against_the_account_however_it_is_named(client, settings):
    """Sign-in takes a username in any case or an e-mail address: all are one account's failures."""
    settings.AXES_FAILURE_LIMIT = 3
    user = get_user_model().objects.create_user("dora", "dora@example.com", PASSWORD)
    EmailAddress.objects.create(user=user, email="dora@example.com", verified=True, primary=True)
    for spelling in ("dora", "DORA", "Dora@Example.com"):
        assert sign_in(client, spelling, "wrong").status_code in (200, 429)
    refused = sign_in(client, "dora")
    assert refused.status_code == 429 and "Too many failed sign-ins" in refused.content.decode()
    # Another account from the same address is not held up.
    get_user_model().objects.create_user("eric", password=PASSWORD)
    assert sign_in(client.__class__(), "eric").status_code == 302


def test_the_account_pages_render_in_the_products_frame(client):
    user = get_user_model().objects.create_user("gil", password=PASSWORD)
    client.force_login(user)
    for path in ("/accounts/email/", "/accounts/password_change/"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'class="appbar"' in page.content.decode() and 'class="input' in page.content.decode(), path
    assert client.get("/accounts/password/change/")["Location"] == "/accounts/password_change/"


def test_password_reset_e_mails_are_rate_limited_with_the_products_page(client):
    get_user_model().objects.create_user("hal", "hal@example.com", PASSWORD)
    replies = [client.post("/accounts/password/reset/", {"email": "hal@example.com"}) for _ in range(6)]
    assert [r.status_code for r in replies][:5] == [302] * 5
    assert replies[-1].status_code == 429 and "Too many requests" in replies[-1].content.decode()
    assert 'data-testid="error-page" data-status="429"' in replies[-1].content.decode()

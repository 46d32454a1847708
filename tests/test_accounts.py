"""Accounts a newcomer opens alone (django-allauth): sign up, confirm the address through the mailed link, sign in;
reset a forgotten password through a mailed link; mail through the console in the demo and SMTP from EMAIL_URL."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.conftest import print_setting, run_python

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def link_in(message) -> str:
    return re.search(r"http://testserver(/accounts/\S+/)", message.body).group(1)


def signed_in_as(client) -> str | None:
    page = client.get("/").content.decode()
    found = re.search(r'id="nav-account">([^<]+)</a>', page)
    return found.group(1) if found else None


def test_a_newcomer_signs_up_confirms_the_address_and_submits(client, cifar10):
    form = client.get("/accounts/signup/")
    assert form.status_code == 200 and 'name="email"' in form.content.decode()
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newcomer",
            "email": "new@example.org",
            "password1": "a long passphrase",
            "password2": "a long passphrase",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/confirm-email/"
    assert signed_in_as(client) is None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.org"]
    assert mail.outbox[0].subject.startswith("[Zooboard] ")

    # not before the address is confirmed: signing in mails the link again instead
    refused = client.post("/accounts/login/", {"login": "newcomer", "password": "a long passphrase"})
    assert refused.status_code == 302 and refused["Location"] == "/accounts/confirm-email/"
    assert signed_in_as(client) is None

    confirm = link_in(mail.outbox[-1])
    assert client.get(confirm).status_code == 200
    confirmed = client.post(confirm)
    assert confirmed.status_code == 302
    client.post("/accounts/login/", {"login": "newcomer", "password": "a long passphrase"})
    assert signed_in_as(client) == "newcomer"
    assert client.get("/submit/").status_code == 200


def test_a_taken_username_or_address_is_refused_with_a_sentence(client, alice):
    client.post(
        "/accounts/signup/",
        {
            "username": "first",
            "email": "same@example.org",
            "password1": "a long passphrase",
            "password2": "a long passphrase",
        },
    )
    taken = client.post(
        "/accounts/signup/",
        {
            "username": "alice",
            "email": "other@example.org",
            "password1": "a long passphrase",
            "password2": "a long passphrase",
        },
    )
    assert taken.status_code == 200 and "A user with that username already exists." in taken.content.decode()
    short = client.post(
        "/accounts/signup/", {"username": "b", "email": "b@example.org", "password1": "short", "password2": "short"}
    )
    assert "This password is too short." in short.content.decode()


def test_a_forgotten_password_is_reset_through_the_mailed_link(client, django_user_model):
    client.post(
        "/accounts/signup/",
        {
            "username": "forgetful",
            "email": "f@example.org",
            "password1": "the first one!",
            "password2": "the first one!",
        },
    )
    client.post(link_in(mail.outbox[-1]))  # confirmed
    client.post("/accounts/logout/")
    mail.outbox.clear()

    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/" id="forgot-password"' in page
    response = client.post("/accounts/password/reset/", {"email": "f@example.org"})
    assert response.status_code == 302 and len(mail.outbox) == 1 and mail.outbox[0].to == ["f@example.org"]
    reset = client.get(link_in(mail.outbox[0]), follow=True)  # the key moves into the session, then a form
    form_path = reset.redirect_chain[-1][0] if reset.redirect_chain else link_in(mail.outbox[0])
    done = client.post(form_path, {"password1": "the second one!", "password2": "the second one!"})
    assert done.status_code == 302
    assert django_user_model.objects.get(username="forgetful").check_password("the second one!")

    # an address nobody signed up with gets the same answer (no one learns who has an account)
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert unknown.status_code == response.status_code and unknown["Location"] == response["Location"]


def test_accounts_staff_made_sign_in_without_a_confirmation(client, alice):
    response = client.post("/accounts/login/", {"login": "alice", "password": "password"})
    assert response.status_code == 302 and signed_in_as(client) == "alice"
    profile = client.get("/account/")
    assert profile.status_code == 200 and "API tokens" in profile.content.decode()
    for link in ("/accounts/email/", "/accounts/password/change/"):  # the account page's links
        assert f'href="{link}"' in profile.content.decode()
        page = client.get(link)
        assert page.status_code == 200 and 'class="brand"' in page.content.decode()  # in the site's layout


def test_mail_goes_to_the_console_in_the_demo_and_to_smtp_from_the_environment():
    assert print_setting("settings.EMAIL_BACKEND") == "django.core.mail.backends.console.EmailBackend"
    names = ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_USE_TLS")
    smtp = print_setting(
        "[" + ", ".join(f"settings.{name}" for name in names) + "]",
        EMAIL_URL="smtp+tls://mailer:secret@mail.example.org:587",
    )
    assert smtp == ["django.core.mail.backends.smtp.EmailBackend", "mail.example.org", 587, "mailer", True]


@pytest.mark.parametrize("first", ["leaderboard.accounts", "leaderboard.account_stages"])
def test_the_account_modules_import_first_in_a_fresh_process(first):
    """A celery worker's start-up checks import allauth's adapter, and ours, before anything else: a cycle through
    allauth's stages module once killed every worker at start-up."""
    code = (
        f"import django, importlib; django.setup(); importlib.import_module({first!r}); "
        "from django.core.checks import run_checks; from allauth.account.adapter import get_adapter; "
        "run_checks(); print(get_adapter().get_login_stages())"
    )
    done = run_python("-c", code, DJANGO_SETTINGS_MODULE="config.settings")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "leaderboard.account_stages.ConfirmedAddressStage" in done.stdout

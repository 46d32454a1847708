"""Sign-in lockout (django-axes): repeated wrong passwords lock a username, the right one included, for the
cool-off; the sign-in page says so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt

from tests.conftest import run_python

pytestmark = pytest.mark.django_db

WRONG = "The username and/or password you specified are not correct."  # allauth's sentence


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    """Every wrong password for a real user costs a full hash; these tests make dozens (the cast is made after)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in(client, username: str, password: str, path: str = "/accounts/login/"):
    """The site's sign-in (django-allauth's form: "login"), or the admin's (Django's: "username")."""
    field = "username" if path.startswith("/admin/") else "login"
    return client.post(path, {field: username, "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def lock(client, username: str, limit: int):
    for attempt in range(limit):
        sign_in(client, username, f"wrong-{attempt}")


def test_a_hundred_wrong_passwords_are_not_all_ordinary_failures_and_the_right_one_is_then_refused(
    client, alice, settings
):
    limit = settings.AXES_FAILURE_LIMIT
    responses = [sign_in(client, "alice", f"guess-{attempt}") for attempt in range(100)]
    ordinary = [answer for answer in responses if answer.status_code == 200 and WRONG in answer.content.decode()]
    assert len(ordinary) == limit - 1
    assert all(response.status_code == 429 for response in responses[limit - 1 :])
    right = sign_in(client, "alice", "password")
    assert right.status_code == 429
    assert not signed_in(client)


def test_the_sign_in_page_says_the_username_is_locked_and_until_when(client, alice, settings):
    lock(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    response = sign_in(client, "alice", "wrong-again")
    page = response.content.decode()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    until = AccessAttempt.objects.get(username="alice").attempt_time + settings.AXES_COOLOFF_TIME
    assert response.status_code == 429
    assert (
        f"Too many wrong passwords for alice: signing in is locked for {minutes} minutes, "
        f"until {until:%H:%M} UTC, even with the right password."
    ) in page
    assert 'name="login"' in page and 'value="alice"' in page  # still the sign-in page, its form included


def test_fewer_wrong_passwords_than_the_limit_still_let_the_right_one_in(client, alice, settings):
    lock(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(client, "alice", "password").status_code == 302
    assert signed_in(client)


def test_signing_in_resets_the_count(client, alice, settings):
    lock(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    sign_in(client, "alice", "password")
    client.logout()
    lock(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(client, "alice", "password").status_code == 302


def test_the_right_password_works_again_once_the_cool_off_has_passed(client, alice, settings):
    lock(client, "alice", settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, "alice", "password").status_code == 429
    # the cool-off is measured from the last recorded failure: move it back rather than wait 15 minutes
    past = AccessAttempt.objects.get(username="alice").attempt_time - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.filter(username="alice").update(attempt_time=past)
    assert sign_in(client, "alice", "password").status_code == 302
    assert signed_in(client)


def test_attempts_during_the_lockout_do_not_extend_it(client, alice, settings):
    lock(client, "alice", settings.AXES_FAILURE_LIMIT)
    locked_at = AccessAttempt.objects.get(username="alice").attempt_time
    lock(client, "alice", 10)
    assert AccessAttempt.objects.get(username="alice").attempt_time == locked_at


def test_another_username_is_not_locked(client, alice, bob, settings):
    lock(client, "alice", settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, "bob", "password").status_code == 302


def test_the_admin_sign_in_is_locked_too(client, staff, settings):
    lock(client, "staff", settings.AXES_FAILURE_LIMIT)
    response = sign_in(client, "staff", "password", path="/admin/login/")
    assert response.status_code == 429
    assert not signed_in(client)


def test_the_limit_and_the_cool_off_come_from_the_environment():
    done = run_python(
        "manage.py",
        "shell",
        "-c",
        "from django.conf import settings; print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME)",
        ZOOBOARD_SIGNIN_FAILURES="3",
        ZOOBOARD_SIGNIN_COOLOFF_MINUTES="7",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split() == ["3", "0:07:00"]


def test_a_malformed_cool_off_stops_start_up_naming_the_variable():
    done = run_python("manage.py", "check", ZOOBOARD_SIGNIN_COOLOFF_MINUTES="a while")
    assert done.returncode != 0
    assert "ZOOBOARD_SIGNIN_COOLOFF_MINUTES must be a positive whole number, not 'a while'" in done.stderr

"""API tokens: named, shown once, stored as a digest, expiring, revocable; refused with a sentence once stale."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from leaderboard.api.authentication import NOT_VALID
from leaderboard.models import ApiToken

pytestmark = pytest.mark.django_db


def api_with(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def authenticated(key: str) -> bool:
    """An empty submission is refused as incomplete (400) when the token works, as unauthenticated (401) if not."""
    status = api_with(key).post("/api/submissions/", {}).status_code
    assert status in (400, 401), status
    return status == 400


def create_on_page(client, name="laptop", days=30):
    response = client.post("/account/tokens/", {"name": name, "expires_in": days})
    assert response.status_code == 200, response.content
    return re.search(r'<code id="token">([^<]+)</code>', response.content.decode()).group(1), response


def test_the_page_creates_a_named_token_that_works_on_the_api(client, alice):
    client.force_login(alice)
    key, _ = create_on_page(client, "laptop", 30)
    token = ApiToken.objects.get(user=alice)
    assert token.name == "laptop"
    assert abs(token.expiry - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert authenticated(key)


def test_only_a_digest_of_the_key_is_stored(client, alice):
    client.force_login(alice)
    key, _ = create_on_page(client)
    token = ApiToken.objects.get(user=alice)
    assert key not in token.digest and token.digest != key
    assert len(token.token_key) < len(key) // 3  # knox's lookup prefix, not the key


def test_the_key_is_shown_once_and_the_list_shows_name_and_dates_without_it(client, alice):
    client.force_login(alice)
    key, created_page = create_on_page(client, "ci runner", 90)
    assert key in created_page.content.decode()
    assert "no-store" in created_page["Cache-Control"]
    listing = client.get("/account/tokens/").content.decode()
    token = ApiToken.objects.get(user=alice)
    assert "ci runner" in listing and f"{token.expiry:%Y-%m-%d}" in listing and f"{token.created:%Y-%m-%d}" in listing
    assert key not in listing and token.token_key not in listing


@pytest.mark.parametrize("days", ["7", "0", "forever", ""])
def test_it_refuses_an_expiry_that_is_not_offered(client, alice, days):
    client.force_login(alice)
    response = client.post("/account/tokens/", {"name": "odd", "expires_in": days})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_it_refuses_a_token_past_the_limit_per_user(client, alice, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    client.force_login(alice)
    create_on_page(client, "one")
    create_on_page(client, "two")
    response = client.post("/account/tokens/", {"name": "three", "expires_in": 30})
    assert response.status_code == 400
    assert "You already have 2 API tokens, the most allowed: revoke one first." in response.content.decode()
    assert ApiToken.objects.filter(user=alice).count() == 2


def test_a_revoked_token_is_refused_with_a_sentence(client, alice):
    client.force_login(alice)
    key, _ = create_on_page(client)
    digest = ApiToken.objects.get(user=alice).digest
    response = client.post("/account/tokens/revoke/", {"digest": digest}, follow=True)
    assert "The API token was revoked: it no longer works." in response.content.decode()
    refused = api_with(key).post("/api/submissions/", {})
    assert refused.status_code == 401
    assert refused.json() == {"error": NOT_VALID}


def test_an_expired_token_is_refused_with_a_sentence_naming_it(alice):
    _, key = ApiToken.objects.create(user=alice, name="old laptop", expiry=timedelta(days=30))
    expired_at = timezone.now() - timedelta(hours=1)
    ApiToken.objects.filter(user=alice).update(expiry=expired_at)
    refused = api_with(key).post("/api/submissions/", {})
    assert refused.status_code == 401
    assert refused.json() == {
        "error": f"the API token 'old laptop' expired on {expired_at:%Y-%m-%d %H:%M} UTC; "
        "create a new one on the API tokens page (My submissions)"
    }
    assert not ApiToken.objects.exists()  # as knox does, an expired token is deleted once seen


@pytest.mark.parametrize("header", ["Token zb_not-a-real-key", "Token \xff\xfe", "Token "])
def test_a_mistyped_token_is_refused_with_a_sentence(alice, header):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    refused = api.post("/api/submissions/", {})
    assert refused.status_code == 401
    assert set(refused.json()) == {"error"} and refused.json()["error"]


def test_a_disabled_accounts_token_is_refused(alice):
    _, key = ApiToken.objects.create(user=alice, name="x", expiry=timedelta(days=30))
    alice.is_active = False
    alice.save()
    refused = api_with(key).post("/api/submissions/", {})
    assert refused.status_code == 401
    assert refused.json() == {"error": "the account this API token belongs to is disabled"}


def test_nobody_revokes_another_users_token(client, alice, bob):
    _, key = ApiToken.objects.create(user=alice, name="alice's", expiry=timedelta(days=30))
    client.force_login(bob)
    response = client.post("/account/tokens/revoke/", {"digest": ApiToken.objects.get().digest}, follow=True)
    assert "There is no such API token to revoke." in response.content.decode()
    assert authenticated(key)


def test_the_page_needs_a_signed_in_user(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_my_submissions_links_to_the_tokens_page(client, alice):
    client.force_login(alice)
    assert 'href="/account/tokens/"' in client.get("/submissions/mine/").content.decode()


def ensure_user(*args) -> list[str]:
    out = io.StringIO()
    call_command("ensure_user", *args, stdout=out)
    return out.getvalue().splitlines()


def test_ensure_user_prints_a_working_token_as_its_last_line(django_user_model):
    lines = ensure_user("dora", "--password", "secret-enough", "--staff")
    match = re.fullmatch(r"API token (\S+)", lines[-1])
    assert match, lines
    assert authenticated(match.group(1))
    assert django_user_model.objects.get(username="dora").is_staff


def test_ensure_user_run_twice_leaves_both_tokens_working(django_user_model):
    first = ensure_user("dora", "--password", "secret-enough")[-1].removeprefix("API token ")
    second = ensure_user("dora", "--password", "secret-enough", "--days", "5")[-1].removeprefix("API token ")
    assert first != second and authenticated(first) and authenticated(second)
    newest = ApiToken.objects.filter(user__username="dora").first()
    assert abs(newest.expiry - (timezone.now() + timedelta(days=5))) < timedelta(minutes=1)

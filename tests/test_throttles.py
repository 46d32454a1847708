"""API throttles: anonymous, per user and submitting rates, 429 with Retry-After and a sentence, counted in a
cache every worker shares."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from django.core.cache import cache

from leaderboard.models import Submission
from tests.conftest import print_setting, run_python

pytestmark = pytest.mark.django_db

RATES = {"anon": "3/minute", "user": "5/minute", "submit": "2/minute"}


@pytest.fixture(autouse=True)
def small_rates(settings):
    """Rates small enough to reach in a test, and a cache without other tests' counts."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}
    cache.clear()
    yield
    cache.clear()


def assert_throttled(response, within_seconds: int = 60):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= within_seconds
    body = response.json()
    assert set(body) == {"error"} and body["error"].endswith(".")


def test_anonymous_requests_past_the_rate_get_429_with_retry_after(client):
    answered = [client.get("/api/testsets/").status_code for _ in range(3)]
    assert answered == [200, 200, 200]
    assert_throttled(client.get("/api/testsets/"))


def test_each_signed_in_user_has_a_count_of_their_own(alice, bob, api_as):
    as_alice = api_as(alice)
    assert [as_alice.get("/api/testsets/").status_code for _ in range(5)] == [200] * 5
    assert_throttled(as_alice.get("/api/testsets/"))
    assert api_as(bob).get("/api/testsets/").status_code == 200


def test_submitting_has_its_own_stricter_rate_and_a_throttled_submit_stores_nothing(alice, api_as, sent_tasks):
    api = api_as(alice)
    before = Submission.objects.count()
    assert [api.post("/api/submissions/", {}).status_code for _ in range(2)] == [400, 400]  # refused ones count
    assert_throttled(api.post("/api/submissions/", {}))
    assert Submission.objects.count() == before and sent_tasks == []
    assert api.get("/api/submissions/").status_code == 200  # reading is not submitting


THROTTLE_TWICE = """
import django, json, sys
django.setup()
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from leaderboard.api.throttles import AnonThrottle
request = Request(APIRequestFactory().get("/api/testsets/", REMOTE_ADDR=sys.argv[1]))
print(json.dumps([AnonThrottle().allow_request(request, None) for _ in range(2)]))
"""


def test_two_processes_count_together_in_a_redis_cache():
    """Two processes stand for two gunicorn workers: with CACHE_URL on Redis the second sees the first's count."""
    client_address = f"test-{uuid.uuid4()}"  # a count of this test's own in the shared Redis
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "ZOOBOARD_API_RATE_ANON": "3/minute",
    }
    first = run_python("-c", THROTTLE_TWICE, client_address, **env)
    second = run_python("-c", THROTTLE_TWICE, client_address, **env)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert json.loads(first.stdout) == [True, True]
    assert json.loads(second.stdout) == [True, False]


def test_a_redis_cache_url_gives_djangos_own_redis_backend():
    backend = print_setting("settings.CACHES['default']['BACKEND']", CACHE_URL="redis://127.0.0.1:6379/1")
    assert backend == "django.core.cache.backends.redis.RedisCache"


def test_the_demo_counts_in_local_memory():
    assert "CACHE_URL" not in os.environ  # the demo's default is what runs here
    assert print_setting("settings.CACHES['default']['BACKEND']") == "django.core.cache.backends.locmem.LocMemCache"


def test_the_rates_come_from_the_environment():
    rates = print_setting(
        "settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']",
        ZOOBOARD_API_RATE_ANON="10/second",
        ZOOBOARD_API_RATE_USER="1000/hour",
        ZOOBOARD_API_RATE_SUBMIT="50/day",
    )
    assert rates == {"anon": "10/second", "user": "1000/hour", "submit": "50/day"}


def test_a_malformed_rate_stops_start_up_naming_the_variable():
    done = run_python("manage.py", "check", ZOOBOARD_API_RATE_SUBMIT="lots")
    assert done.returncode != 0
    expected = "ZOOBOARD_API_RATE_SUBMIT must be a rate such as 60/minute (per second, minute, hour or day), not 'lots'"
    assert expected in done.stderr

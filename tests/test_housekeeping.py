"""The periodic scheduler's timetable names real tasks, and housekeeping removes only what expired."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.celery import app
from evaluator.tasks import housekeeping
from leaderboard.models import ApiToken


def test_every_scheduled_task_is_one_the_workers_have():
    import evaluator.tasks  # noqa: F401  (registers the tasks, as a worker's autodiscovery does)

    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
        assert entry["options"]["queue"] == settings.ZOOBOARD_CPU_QUEUE


@pytest.mark.django_db
def test_housekeeping_removes_expired_tokens_and_sessions_only(alice):
    expired, _ = ApiToken.objects.create(user=alice, name="expired", expiry=timedelta(days=1))
    ApiToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    live, _ = ApiToken.objects.create(user=alice, name="live", expiry=timedelta(days=1))
    forever, _ = ApiToken.objects.create(user=alice, name="no expiry", expiry=None)
    old, new = SessionStore(), SessionStore()
    old.create()
    new.create()
    Session.objects.filter(session_key=old.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))

    assert housekeeping() == {"expired_tokens": 1, "exports_made": 0}
    assert set(ApiToken.objects.values_list("name", flat=True)) == {"live", "no expiry"}
    assert list(Session.objects.values_list("session_key", flat=True)) == [new.session_key]
    assert live.pk and forever.pk

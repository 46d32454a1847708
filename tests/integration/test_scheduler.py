"""The periodic scheduler for real: `celery beat` with django-celery-beat's database scheduler sends the
housekeeping task on its timetable, and a real worker runs it."""

from __future__ import annotations

import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from leaderboard.models import ApiToken
from tests.integration.conftest import require_services
from tests.integration.processes import ServiceProcess, Worker, service_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_scheduler_sends_housekeeping_and_a_worker_removes_expired_tokens(
    django_db_setup, data_dir, tmp_path, alice
):
    require_services()
    expired, _ = ApiToken.objects.create(user=alice, name="expired", expiry=timedelta(days=1))
    ApiToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - timedelta(minutes=1))
    live, _ = ApiToken.objects.create(user=alice, name="live", expiry=timedelta(days=1))
    queue = f"beat-{uuid.uuid4().hex[:8]}"
    every_second = {"ZOOBOARD_HOUSEKEEPING_INTERVAL": "1"}
    worker = Worker(queue, tmp_path, data_dir, every_second)
    env = {**service_env(queue, tmp_path, data_dir), **every_second}
    command = [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info", "-s", str(tmp_path / "beat")]
    beat = ServiceProcess("beat", command, env, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while ApiToken.objects.filter(pk=expired.pk).exists():
            assert time.monotonic() < deadline, beat.log_path.read_text()[-2000:] + worker.log_path.read_text()[-2000:]
            assert beat.is_alive(), beat.log_path.read_text()
            time.sleep(0.2)
        assert ApiToken.objects.filter(pk=live.pk).exists()
        assert "DatabaseScheduler" in beat.log_path.read_text()
        assert "evaluator.housekeeping" in worker.log_path.read_text()
    finally:
        beat.stop()
        worker.stop()

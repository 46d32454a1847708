"""docker/healthcheck.py against real processes: gunicorn, a Celery worker, celery beat. Each check passes while
its process works and fails, saying why, when it does not (stopped, hung, its timetable disabled)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import pytest
from django_celery_beat.models import PeriodicTask

from tests.integration.conftest import free_port, require_services
from tests.integration.processes import REPO, Gunicorn, ServiceProcess, Worker, service_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def check(mode: str, env: dict[str, str], **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "docker/healthcheck.py", mode],
        cwd=REPO,
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def env(django_db_setup, data_dir, tmp_path):
    require_services()
    queue = f"health-{uuid.uuid4().hex[:8]}"
    return queue, service_env(queue, tmp_path, data_dir)


def test_the_site_check_follows_gunicorn(env, data_dir, tmp_path):
    queue, environment = env
    port = free_port()
    site = Gunicorn(queue, tmp_path, data_dir, port)
    try:
        assert check("site", environment, HEALTHCHECK_PORT=str(port)).returncode == 0
    finally:
        site.stop()
    stopped = check("site", environment, HEALTHCHECK_PORT=str(port))
    assert stopped.returncode != 0 and "unhealthy: URLError" in stopped.stderr


def test_the_worker_check_fails_for_a_hung_worker(env, data_dir, tmp_path):
    queue, environment = env
    worker = Worker(queue, tmp_path, data_dir)
    try:
        pid = str(worker.process.pid)
        assert check("worker", environment, HEALTHCHECK_PID=pid).returncode == 0
        worker.process.send_signal(signal.SIGSTOP)  # alive, but answering nothing
        hung = check("worker", environment, HEALTHCHECK_PID=pid)
        assert hung.returncode != 0 and f"no answer from {queue}@" in hung.stderr
        worker.process.send_signal(signal.SIGCONT)
    finally:
        worker.stop()


def test_the_scheduler_check_follows_beat_and_its_timetable(env, tmp_path):
    queue, environment = env
    command = [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info", "-s", str(tmp_path / "beat")]
    beat = ServiceProcess("beat", command, environment, tmp_path)
    try:
        beat.wait_for(lambda: PeriodicTask.objects.filter(name="housekeeping").exists())
        pid = str(beat.process.pid)
        assert check("scheduler", environment, HEALTHCHECK_PID=pid).returncode == 0
        PeriodicTask.objects.filter(name="housekeeping").update(enabled=False)  # paused in the admin
        paused = check("scheduler", environment, HEALTHCHECK_PID=pid)
        assert paused.returncode != 0 and "1 scheduled task(s) missing or disabled" in paused.stderr
    finally:
        beat.stop()
    not_beat = check("scheduler", environment, HEALTHCHECK_PID=str(os.getpid()))
    assert not_beat.returncode != 0 and "celery beat is not this container's process" in not_beat.stderr

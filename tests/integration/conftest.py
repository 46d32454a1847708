"""Integration tests need a real broker and a database a second process can reach (PostgreSQL)."""

from __future__ import annotations

import os
import socket
import time
import uuid

import pytest
from django.conf import settings as django_settings

from leaderboard.models import Submission
from tests.integration.processes import Gunicorn, Worker


def _services_missing() -> str | None:
    if django_settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return "CELERY_BROKER_URL is the embedded filesystem broker; set a Redis or RabbitMQ URL (make test does)"
    if "postgresql" not in django_settings.DATABASES["default"]["ENGINE"]:
        return "DATABASE_URL is not PostgreSQL; a worker process cannot share an in-memory SQLite test database"
    return None


def require_services() -> None:
    """Skips the test where the services are missing, or fails it where ZOOBOARD_REQUIRE_SERVICES=1."""
    missing = _services_missing()
    if missing:
        if os.environ.get("ZOOBOARD_REQUIRE_SERVICES") == "1":
            pytest.fail(f"ZOOBOARD_REQUIRE_SERVICES=1 but {missing}")
        pytest.skip(missing)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def worker_env() -> dict[str, str]:
    """Extra environment for the module's worker; a module overrides it (e.g. to add a plugin's path)."""
    return {}


@pytest.fixture(scope="module")
def worker(django_db_setup, data_dir, tmp_path_factory, worker_env):
    """One real worker process (prefork pool, one child) for the module, on a queue no one else uses."""
    require_services()
    process = Worker(f"test-{uuid.uuid4().hex[:10]}", tmp_path_factory.mktemp("worker"), data_dir, worker_env)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def site(worker, data_dir):
    """gunicorn serving the site on the test database, enqueuing to the module's worker."""
    scratch = worker.media_dir.parent  # the same media folder: the site stores uploads, the worker reads them
    process = Gunicorn(worker.queue, scratch, data_dir, free_port())
    yield process
    process.stop()


@pytest.fixture
def queue_settings(worker, settings):
    """This process enqueues to the worker's queue and stores uploads where the worker reads them."""
    settings.ZOOBOARD_CPU_QUEUE = settings.ZOOBOARD_EVALUATION_QUEUE = worker.queue
    settings.MEDIA_ROOT = worker.media_dir
    return settings


@pytest.fixture
def wait_until_finished():
    """Polls the database until the submission finishes or the deadline passes."""

    def wait(submission_id: int, deadline_seconds: float = 240, condition=None) -> Submission:
        condition = condition or (lambda submission: submission.is_finished)
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            submission = Submission.objects.get(pk=submission_id)
            if condition(submission):
                return submission
            time.sleep(0.2)
        raise TimeoutError(f"submission {submission_id} is still {submission.status} after {deadline_seconds} s")

    return wait

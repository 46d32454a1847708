"""Faults for real, on a real worker with PostgreSQL and Redis: SIGKILLed workers, a restarted broker and database,
a model that never returns. Every submission ends, evaluated exactly once, and the workers go on."""

from __future__ import annotations

import os
import signal
import uuid

import numpy as np
import onnx
import pytest
from django.db import connection
from rest_framework.test import APIClient

from leaderboard.models import Status, Submission
from tests import independent, onnx_models
from tests.integration import services
from tests.integration.conftest import require_services
from tests.integration.helpers import FAST_RECOVERY, finished, mid_run, wait_for
from tests.integration.processes import Worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def start_worker(django_db_setup, data_dir, tmp_path, settings):
    """start_worker(**env) -> a real worker on this test's own queue; all are stopped at the end."""
    require_services()
    queue, started = f"faults-{uuid.uuid4().hex[:8]}", []
    settings.ZOOBOARD_CPU_QUEUE = settings.ZOOBOARD_EVALUATION_QUEUE = queue
    settings.MEDIA_ROOT = tmp_path / "media"

    def start(**env: str) -> Worker:
        worker = Worker(queue, tmp_path, data_dir, {**FAST_RECOVERY, **env}, log_name=f"worker-{len(started)}")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.is_alive():
            worker.stop()


@pytest.fixture
def api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture(scope="module")
def cifar10_pixels_and_labels():
    return independent.cifar10_images_and_labels()


def submit(api, path, name="") -> int:
    with open(path, "rb") as handle:
        response = api.post("/api/submissions/", {"testset": "cifar10", "model_file": handle, "name": name})
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def independent_top1(submission: Submission, model, pixels_and_labels) -> float:
    """Top-1 from the model's own outputs on the raw JPEGs, by tests/independent.py, not by the engine."""
    images, labels = pixels_and_labels
    recipe = submission.preprocessing
    scores = independent.model_scores(model, images, recipe["mean"], recipe["std"], recipe["value_range"])
    return independent.top_k_accuracy_loop(scores, labels, 1)


def assert_written_once(submission: Submission, attempt: int) -> None:
    results = list(submission.results.select_related("label_set"))
    label_sets = submission.testset.label_sets.filter(is_current=True).count()
    assert len(results) == label_sets == len({result.label_set_id for result in results})
    assert {result.attempt for result in results} == {attempt}


def renamed_copy(model, folder, name: str):
    """The same model under another name in its metadata: another file (no duplicate), the same predictions."""
    copy = onnx.load(str(model))
    for prop in copy.metadata_props:
        if prop.key == "zooboard.name":
            prop.value = name
    path = folder / f"{name}.onnx"
    onnx.save(copy, path)
    return path


def test_five_workers_killed_mid_evaluation_in_a_row_end_done_exactly_once(
    start_worker, cifar10, api, model_path, cifar10_pixels_and_labels, tmp_path
):
    worker, expected = start_worker(), None
    for kill in range(1, 6):
        model = renamed_copy(model_path("resnet20"), tmp_path, f"ResNet20, killed at try {kill}")
        submission_id = submit(api, model)
        mid_run(submission_id)
        worker.kill()  # the main process: its pool process dies with it, mid-batch
        worker = start_worker()  # a fresh worker: its reaper queues the evaluation again, and it runs it
        submission = finished(submission_id)
        assert submission.status == Status.DONE, submission.error_message
        assert submission.attempts == 2
        assert_written_once(submission, attempt=2)
        expected = expected or independent_top1(submission, model, cifar10_pixels_and_labels)
        assert submission.results.get(label_set__name="original").metrics["top1"] == pytest.approx(expected)


def test_a_killed_pool_process_is_evaluated_again_once_then_done(start_worker, cifar10, api, model_path):
    worker = start_worker()
    submission_id = submit(api, model_path("resnet56"), name="pool process killed")
    mid_run(submission_id)
    for child in worker.pool_children():
        os.kill(child, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    submission = finished(submission_id)
    assert submission.status == Status.DONE, submission.error_message
    assert submission.attempts == 2
    assert_written_once(submission, attempt=2)
    assert worker.is_alive()


def test_a_model_that_kills_its_worker_every_time_fails_with_a_sentence(start_worker, cifar10, api, model_path):
    worker = start_worker()
    submission_id = submit(api, model_path("resnet56"), name="kills its worker")
    for attempt in (1, 2):
        wait_for(submission_id, lambda s, n=attempt: s.attempts == n and s.status == Status.RUNNING and s.progress_done)
        for child in worker.pool_children():
            os.kill(child, signal.SIGKILL)
    submission = finished(submission_id)
    assert submission.status == Status.FAILED
    assert submission.error_message.startswith("the evaluation stopped its worker every time it was tried")
    assert not submission.results.exists()


def test_a_model_that_never_returns_is_stopped_at_the_time_limit_and_the_worker_goes_on(
    start_worker, cifar10, api, tmp_path
):
    worker = start_worker(ZOOBOARD_SOFT_TIME_LIMIT="6")
    endless, plain = tmp_path / "endless.onnx", tmp_path / "plain.onnx"
    onnx.save(onnx_models.endless_loop(), endless)
    onnx.save(onnx_models.pooled_linear(), plain)
    stuck, after = submit(api, endless, name="Loop of 2^62"), submit(api, plain, name="after it")
    submission = finished(stuck, deadline_seconds=120)
    assert submission.status == Status.FAILED
    assert submission.error_message.startswith("the evaluation took longer than the limit of 6 seconds and was stopped")
    assert (submission.finished_at - submission.started_at).total_seconds() < 30  # not the hard limit's kill
    assert finished(after).status == Status.DONE
    assert worker.is_alive() and submission.attempts == 1


def test_a_broker_restart_during_an_evaluation_and_a_submission_made_while_it_is_down(
    start_worker, cifar10, api, model_path
):
    worker = start_worker(ZOOBOARD_LEASE_SECONDS="20")
    running = submit(api, model_path("resnet56"), name="through a broker restart")
    mid_run(running)
    services.stop_redis()
    try:
        waiting = submit(api, model_path("resnet20"), name="made while the broker is down")
        body = api.get(f"/api/submissions/{waiting}/").json()
        assert body["status"] == "queued" and body["waiting_for_broker"] is True
    finally:
        services.start_redis()
    first, second = finished(running), finished(waiting)
    assert first.status == Status.DONE, first.error_message
    assert second.status == Status.DONE, second.error_message
    assert second.attempts == 1 and second.sent_at is not None
    assert_written_once(second, attempt=1)
    assert worker.is_alive()


def test_a_database_restart_during_an_evaluation(start_worker, cifar10, api, model_path):
    worker = start_worker(ZOOBOARD_LEASE_SECONDS="30")
    submission_id = submit(api, model_path("resnet56"), name="through a database restart")
    mid_run(submission_id)
    connection.close()
    services.restart_postgres()
    submission = finished(submission_id)
    assert submission.status == Status.DONE, submission.error_message
    assert_written_once(submission, attempt=submission.attempts)
    assert worker.is_alive()
    after = finished(submit(api, model_path("resnet8"), name="after the restart"))
    assert after.status == Status.DONE
    assert np.isfinite(after.results.get(label_set__name="original").headline)

"""Through the real queue: the API submits, a real Celery worker process evaluates, the database shows it."""

from __future__ import annotations

import onnx
import pytest
from onnx import numpy_helper

from leaderboard.models import Status

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def submit(api, path, name=""):
    with open(path, "rb") as handle:
        response = api.post("/api/submissions/", {"testset": "cifar10", "model_file": handle, "name": name})
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_resnet20_is_evaluated_by_a_real_worker(
    queue_settings, cifar10, alice, api_as, model_path, wait_until_finished
):
    submission = wait_until_finished(submit(api_as(alice), model_path("resnet20")))
    assert submission.status == Status.DONE, submission.error_message
    result = submission.results.get(label_set__name="original")
    assert round(result.metrics["top1"] * 100, 2) == 81.03
    assert round(result.metrics["top5"] * 100, 2) == 98.72
    assert submission.provider == "CPUExecutionProvider"
    assert submission.progress_done == submission.progress_total == 10_000
    assert submission.started_at <= submission.scoring_at <= submission.finished_at
    assert result.slices.filter(slicer="class").count() == 10
    initializers = onnx.load(str(model_path("resnet20"))).graph.initializer
    assert submission.efficiency["parameters"] == sum(numpy_helper.to_array(t).size for t in initializers)
    assert submission.efficiency["throughput"] > 0 and submission.efficiency["latency"]["p50_ms"] > 0
    assert 0 < submission.timings["to_first_batch"] < submission.timings["run"] + submission.timings["load"]


def test_a_model_failing_at_run_time_fails_and_the_worker_goes_on(
    queue_settings, cifar10, alice, api_as, onnx_test_models, model_path, wait_until_finished, worker
):
    api = api_as(alice)
    broken = submit(api, onnx_test_models["nan_output"], name="NaN out")
    healthy = submit(api, model_path("resnet8"))
    failed = wait_until_finished(broken)
    assert failed.status == Status.FAILED
    assert failed.error_message == "the model's output contains NaN or infinite values"
    assert not failed.results.exists()
    done = wait_until_finished(healthy)
    assert done.status == Status.DONE, done.error_message
    assert round(done.results.get(label_set__name="original").metrics["top1"] * 100, 1) == 75.5
    assert worker.is_alive()

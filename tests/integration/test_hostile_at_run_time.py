"""The hostile corpus at run time, through a real worker: each ends failed with its sentence, and the worker
goes on to evaluate the next submission. Also a timm model with submitted weights through the queue."""

from __future__ import annotations

import pytest

from leaderboard.models import Status
from tests.helpers import post
from tests.hostile_corpus import RUN_TIME, resnet18_weights

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_each_run_time_failure_ends_failed_and_the_worker_goes_on(
    queue_settings, cifar10, alice, api_as, model_path, tmp_path, wait_until_finished, worker
):
    api = api_as(alice)
    submitted = {}
    for index, case in enumerate(RUN_TIME):
        folder = tmp_path / str(index)
        folder.mkdir()
        response = post(api, case.build(folder, {}))
        assert response.status_code == 201, response.json()
        submitted[case.name] = response.json()["id"]
    healthy = post(api, {"model_file": model_path("resnet8")}).json()["id"]
    for case in RUN_TIME:
        submission = wait_until_finished(submitted[case.name])
        assert submission.status == Status.FAILED, case.name
        assert case.matches(submission.error_message), submission.error_message
        assert not submission.results.exists()
    assert wait_until_finished(healthy).status == Status.DONE
    assert worker.is_alive()


def test_a_timm_model_with_submitted_weights_is_evaluated(
    queue_settings, cifar10, alice, api_as, tmp_path, wait_until_finished
):
    fields = {
        "model_identifier": "timm:resnet18",
        "model_file": resnet18_weights(10)(tmp_path),
        "preprocessing": '{"input_size": 32}',
    }
    response = post(api_as(alice), fields)
    assert response.status_code == 201, response.json()
    assert response.json()["preprocessing"]["interpolation"] == "bicubic"  # timm's resnet18 configuration
    submission = wait_until_finished(response.json()["id"], deadline_seconds=300)
    assert submission.status == Status.DONE, submission.error_message
    assert submission.provider.startswith("torch ") and submission.provider.endswith(" on cpu")
    assert 0.0 <= submission.results.get(label_set__name="original").metrics["top1"] <= 1.0

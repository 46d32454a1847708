"""The hostile corpus at submit time: each bad submission is refused through the API with its exact sentence,
nothing is stored and nothing reaches the queue. (The run-time half is in tests/integration.)"""

from __future__ import annotations

import pytest

from leaderboard.models import Submission
from tests.hostile_corpus import RUN_TIME, SUBMIT_TIME


def test_the_corpus_has_at_least_25_cases():
    assert len(SUBMIT_TIME) + len(RUN_TIME) >= 25


def post(api, fields: dict):
    fields = {"testset": "cifar10", **fields}
    path = fields.pop("model_file", None)
    if path is None:
        return api.post("/api/submissions/", fields, format="multipart")
    with open(path, "rb") as handle:
        return api.post("/api/submissions/", {**fields, "model_file": handle}, format="multipart")


@pytest.mark.parametrize("case", SUBMIT_TIME, ids=[case.name for case in SUBMIT_TIME])
def test_a_bad_submission_is_refused_with_its_sentence(
    case, cifar10, alice, api_as, model_path, tmp_path, settings, sent_tasks, django_capture_on_commit_callbacks
):
    if case.max_upload_mb:
        settings.ZOOBOARD_MAX_UPLOAD_MB = case.max_upload_mb
    fields = case.build(tmp_path, {"resnet20": model_path("resnet20")})
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api_as(alice), fields)
    assert response.status_code == 400
    assert case.matches(response.json()["error"]), response.json()["error"]
    assert not Submission.objects.exists()
    assert sent_tasks == []


@pytest.mark.parametrize("case", RUN_TIME, ids=[case.name for case in RUN_TIME])
def test_a_run_time_failure_passes_the_submit_time_check(case, cifar10, alice, api_as, model_path, tmp_path):
    response = post(api_as(alice), case.build(tmp_path, {"resnet20": model_path("resnet20")}))
    assert response.status_code == 201, response.json()

"""The hostile corpus at submit time: each bad submission, and each hostile request, is refused through the API
with its exact status and sentence; nothing is stored and nothing reaches the queue. (The run-time half is in
tests/integration.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from leaderboard.models import Submission
from tests.helpers import post
from tests.hostile_corpus import RUN_TIME, SUBMIT_TIME
from tests.hostile_requests import REQUESTS


def test_the_corpus_holds_at_least_50_different_cases(tmp_path, model_path):
    """Fifty cases, none a copy of another under a new name: no two send the same thing (the same fields and
    file bytes, or the same request). Several may end in the same sentence: a NaN mean in the form and in the
    model's metadata are two ways in. The parametrized tests below run each one."""
    models = {"resnet20": model_path("resnet20")}
    sent = {}
    for index, case in enumerate([*SUBMIT_TIME, *RUN_TIME]):
        folder = tmp_path / str(index)
        folder.mkdir()
        fields = case.build(folder, models)
        what = tuple(
            sorted(
                (key, hashlib.sha256(value.read_bytes()).hexdigest() if isinstance(value, Path) else repr(value))
                for key, value in fields.items()
            )
        )
        sent.setdefault((what, case.max_upload_mb), []).append(case.name)
    for request in REQUESTS:
        what = (request.method, request.path, request.payload(), request.content_type, request.claimed_length)
        sent.setdefault((what, request.signed_in), []).append(request.name)
    copies = [names for names in sent.values() if len(names) > 1]
    assert copies == []
    names = [name for group in sent.values() for name in group]
    assert len(set(names)) == len(names) >= 50


def nothing_stored(settings) -> bool:
    media = settings.MEDIA_ROOT
    return not Submission.objects.exists() and not (media.exists() and any(media.rglob("*")))


@pytest.mark.parametrize("case", SUBMIT_TIME, ids=[case.name for case in SUBMIT_TIME])
def test_a_bad_submission_is_refused_with_its_sentence(
    case, cifar10, alice, api_as, model_path, tmp_path, settings, sent_tasks, django_capture_on_commit_callbacks
):
    if case.max_upload_mb:
        settings.ZOOBOARD_MAX_UPLOAD_MB = case.max_upload_mb
    fields = case.build(tmp_path, {"resnet20": model_path("resnet20")})
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api_as(alice), fields)
    assert (response.status_code, case.matches(response.json()["error"])) == (case.status, True), response.json()
    assert nothing_stored(settings)
    assert sent_tasks == []


@pytest.mark.parametrize("case", REQUESTS, ids=[case.name for case in REQUESTS])
def test_a_hostile_request_is_refused_with_its_sentence(
    case, cifar10, alice, api_as, settings, sent_tasks, django_capture_on_commit_callbacks
):
    api = api_as(alice) if case.signed_in else APIClient()
    extra = {} if case.claimed_length is None else {"CONTENT_LENGTH": str(case.claimed_length)}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.generic(case.method, case.path, case.payload(), case.content_type, **extra)
    assert response["Content-Type"] == "application/json"
    assert (response.status_code, case.matches(response.json()["error"])) == (case.status, True), response.json()
    assert nothing_stored(settings)
    assert sent_tasks == []


@pytest.mark.parametrize("case", RUN_TIME, ids=[case.name for case in RUN_TIME])
def test_a_run_time_failure_passes_the_submit_time_check(case, cifar10, alice, api_as, model_path, tmp_path):
    response = post(api_as(alice), case.build(tmp_path, {"resnet20": model_path("resnet20")}))
    assert response.status_code == 201, response.json()

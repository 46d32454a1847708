"""The leaderboard, the submission page and the submission form, rendered by Django."""

from __future__ import annotations

import pytest

from leaderboard.models import Result, Status, Submission
from tests.helpers import finished_submission


def test_the_leaderboard_ranks_by_top1(cifar10, alice, bob, client):
    finished_submission(cifar10, alice, "Weaker", 0.7548, 0.9851)
    finished_submission(cifar10, bob, "Stronger", 0.8320, 0.9895)
    page = client.get("/testsets/cifar10/").content.decode()
    assert page.index("Stronger") < page.index("Weaker")
    assert "83.20%" in page and "98.95%" in page and "bob" in page


def test_hidden_submissions_stay_off_the_public_leaderboard(cifar10, alice, client):
    finished_submission(cifar10, alice, "Moderated away", 0.9, 0.99, hidden=True)
    assert "Moderated away" not in client.get("/testsets/cifar10/").content.decode()
    assert client.get("/api/testsets/cifar10/leaderboard/").json()["rows"] == []


def test_the_submission_page_shows_status_and_metrics(cifar10, alice, client):
    submission = finished_submission(cifar10, alice, "ResNet", 0.8103, 0.9872)
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "done" in page and "81.03%" in page and "98.72%" in page and "input_size" in page


def test_an_outsider_cannot_see_a_hidden_submission(cifar10, alice, charlie, client):
    submission = finished_submission(cifar10, alice, "Secret", 0.9, 0.99, hidden=True)
    client.force_login(charlie)
    assert client.get(f"/submissions/{submission.pk}/").status_code == 404
    client.force_login(alice)
    assert client.get(f"/submissions/{submission.pk}/").status_code == 200


def test_the_form_requires_signing_in(cifar10, client):
    response = client.get("/submit/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_form_queues_a_model(cifar10, alice, client, model_path, sent_tasks, django_capture_on_commit_callbacks):
    client.force_login(alice)
    with open(model_path("resnet20"), "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = client.post("/submit/", {"testset": "cifar10", "model_file": handle, "name": "From the form"})
    submission = Submission.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/submissions/{submission.pk}/"
    assert submission.name == "From the form" and submission.status == Status.QUEUED
    assert len(sent_tasks) == 1


def test_the_submission_page_says_who_set_each_preprocessing_value(cifar10, alice, client, model_path):
    client.force_login(alice)
    with open(model_path("resnet8"), "rb") as handle:
        client.post("/submit/", {"testset": "cifar10", "model_file": handle, "interpolation": "bicubic"})
    page = client.get(f"/submissions/{Submission.objects.get().pk}/").content.decode()
    assert '<th>value_range</th><td>255.0</td><td class="source">model</td>' in page
    assert '<th>interpolation</th><td>bicubic</td><td class="source">submitter</td>' in page


def test_the_form_shows_why_a_model_was_refused(cifar10, alice, client, onnx_test_models, sent_tasks):
    client.force_login(alice)
    with open(onnx_test_models["not_onnx"], "rb") as handle:
        response = client.post("/submit/", {"testset": "cifar10", "model_file": handle, "name": "x"})
    assert response.status_code == 400
    assert "the file is not an ONNX model" in response.content.decode()
    assert not Submission.objects.exists() and sent_tasks == []


@pytest.mark.parametrize("path", ["/", "/testsets/cifar10/", "/accounts/login/"])
def test_public_pages_render(cifar10, client, path):
    assert client.get(path).status_code == 200


def test_calibration_is_shown_with_its_bin_count(cifar10, alice, client):
    submission = finished_submission(cifar10, alice, "Calibrated", 0.8, 0.99)
    result = submission.results.get()
    result.metrics = {**result.metrics, "ece": 0.12}
    result.save()
    assert "ECE (15 equal-width bins)" in client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "ECE (15 bins)" in client.get("/testsets/cifar10/").content.decode()


def test_the_404_and_500_pages_are_the_sites_own(client, settings, rf):
    from leaderboard.api.errors import server_error

    settings.DEBUG = False
    missing = client.get("/no/such/page/")
    assert missing.status_code == 404
    page = missing.content.decode()
    assert "<h1>Nothing here</h1>" in page and 'class="brand"' in page and "<code>/no/such/page/</code>" in page
    crashed = server_error(rf.get("/testsets/cifar10/"))  # as Django calls it, with nothing but the request
    assert crashed.status_code == 500
    assert "Something went wrong on our side" in crashed.content.decode() and "zooboard.css" in crashed.content.decode()


def test_counts_have_names_people_read(cifar10, alice, client):
    submission = Submission.objects.create(owner=alice, testset=cifar10, name="Counted", preprocessing={})
    submission.move_to(Status.RUNNING)
    submission.move_to(Status.SCORING)
    score = {
        **{"version": 1, "protocol": "multilabel", "headline": "top1", "metrics": {"top1": 0.9, "top5": 1.0}},
        **{"intervals": {}, "counts": {"scored": 9000, "left_out": 1000, "multi_label": 800}},
        **{"summaries": {}, "curves": {}, "correct": None, "per_example": None, "slices": {}},
    }
    Result.objects.store(submission, {"plausible": score})
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "images scored: 9000 · left out (no plausible label): 1000 · with several plausible labels: 800" in page
    assert "left_out" not in page

"""POST /api/submissions/: checked at once, queued at once, refused with a sentence when broken."""

from __future__ import annotations

import json

import onnx
import pytest

from leaderboard.models import Status, Submission
from tests import onnx_models


def post_model(api, path, **fields):
    with open(path, "rb") as handle:
        return api.post("/api/submissions/", {"testset": "cifar10", "model_file": handle, **fields}, format="multipart")


def test_it_queues_a_valid_model_at_once(
    cifar10, alice, api_as, model_path, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_model(api_as(alice), model_path("resnet20"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued"
    assert body["name"] == "ResNet20 (akamaster)"  # from the model's zooboard.name metadata
    assert body["owner"] == "alice"
    assert body["progress"] == {"done": 0, "total": 10_000}
    assert sent_tasks == [("evaluator.evaluate_submission", {"args": [body["id"]], "queue": "cpu"})]


def test_it_records_the_resolved_preprocessing(cifar10, alice, api_as, model_path):
    preprocessing = json.dumps({"interpolation": "bicubic"})
    response = post_model(api_as(alice), model_path("resnet8"), preprocessing=preprocessing, name="My ResNet-8")
    recipe = response.json()["preprocessing"]
    assert response.json()["name"] == "My ResNet-8"
    assert recipe["interpolation"] == "bicubic"  # from the submitter
    assert recipe["value_range"] == 255.0 and recipe["output"] == "probabilities"  # from the model's metadata
    assert recipe["input_size"] == 32  # from the test set's defaults
    assert response.json()["model_details"]["preprocessing_sources"]["value_range"] == "model"


def test_it_says_who_set_each_preprocessing_value(cifar10, alice, api_as, tmp_path):
    path = tmp_path / "plain.onnx"
    onnx.save(onnx_models.pooled_linear(), path)  # declares no recipe of its own
    response = post_model(api_as(alice), path, name="plain", preprocessing='{"interpolation": "bicubic"}')
    sources = response.json()["model_details"]["preprocessing_sources"]
    assert sources["interpolation"] == "submitter"
    assert sources["input_size"] == sources["crop_pct"] == "test set"
    assert sources["mean"] == sources["resize"] == "default"


def test_it_refuses_a_file_that_is_not_onnx(
    cifar10, alice, api_as, onnx_test_models, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_model(api_as(alice), onnx_test_models["not_onnx"], name="png")
    assert response.status_code == 400
    assert response.json() == {"error": "the file is not an ONNX model: it could not be parsed as an ONNX protobuf"}
    assert not Submission.objects.exists()
    assert sent_tasks == []


def test_it_refuses_an_empty_file(cifar10, alice, api_as, onnx_test_models):
    response = post_model(api_as(alice), onnx_test_models["empty"], name="empty")
    assert response.status_code == 400
    assert "empty" in response.json()["error"]


def test_it_refuses_a_model_with_the_wrong_number_of_classes(cifar10, alice, api_as, onnx_test_models, sent_tasks):
    response = post_model(api_as(alice), onnx_test_models["thousand_classes"], name="big")
    assert response.status_code == 400
    assert response.json()["error"] == "the model's output has 1000 classes; this test set has 10"
    assert sent_tasks == []


def test_it_refuses_malformed_preprocessing(cifar10, alice, api_as, model_path):
    response = post_model(api_as(alice), model_path("resnet20"), preprocessing='{"std": [0, 1, 1]}')
    assert response.status_code == 400
    assert response.json()["error"] == "every std value must be positive, not [0.0, 1.0, 1.0]"


def test_it_refuses_an_unknown_test_set(cifar10, alice, api_as, model_path):
    with open(model_path("resnet20"), "rb") as handle:
        response = api_as(alice).post("/api/submissions/", {"testset": "mnist", "model_file": handle})
    assert response.status_code == 400
    assert "testset" in response.json()["error"]


def test_it_requires_a_token(cifar10, client, model_path):
    with open(model_path("resnet20"), "rb") as handle:
        response = client.post("/api/submissions/", {"testset": "cifar10", "model_file": handle})
    assert response.status_code in (401, 403)
    assert not Submission.objects.exists()


def test_the_owner_can_cancel_a_queued_submission(cifar10, alice, charlie, api_as, model_path):
    submission_id = post_model(api_as(alice), model_path("resnet20")).json()["id"]
    assert api_as(charlie).post(f"/api/submissions/{submission_id}/cancel/").status_code == 403
    response = api_as(alice).post(f"/api/submissions/{submission_id}/cancel/")
    assert response.status_code == 200
    assert Submission.objects.get(pk=submission_id).status == Status.CANCELLED


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/testsets/cifar10/"])
def test_the_api_describes_itself(cifar10, client, path):
    assert client.get(path).status_code == 200

"""EfficientNet-Lite0 by its timm identifier through the API and a real worker: pretrained weights from the
operator's converted folder, the recipe from its config.json, on the 1,300 real ImageNet val images."""

from __future__ import annotations

import pytest

from evaluator.conversion import efficientnet_lite
from leaderboard.importing import import_testset
from leaderboard.models import Status
from plugins import registry
from plugins.testset import testset_root
from tests.conftest import BUNDLED
from tests.test_efficientnet_lite import batch, identifier, image_archive, independent_figures, onnx_logits, raw_labels
from tests.test_efficientnet_lite import val_images as decode_val_images
from tests.test_hostile_submissions import post

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def lite_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("timm-weights")
    efficientnet_lite.convert_all(folder, [0])
    return folder


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """This module's own ZOOBOARD_DATA_DIR (the worker's too), with ImageNet imported: the session's folder
    stays without it, as other tests expect."""
    root = tmp_path_factory.mktemp("data")
    registry.get("testset_reader", "imagenet").import_testset(
        BUNDLED, testset_root(root, "imagenet", 1), 1, image_archive()
    )
    return root


@pytest.fixture(scope="module")
def worker_env(lite_dir):
    return {"ZOOBOARD_TIMM_WEIGHTS_DIR": str(lite_dir), "HF_HUB_OFFLINE": "1"}


@pytest.fixture
def imagenet(db, data_dir, monkeypatch, lite_dir):
    """ImageNet listed on the site, which checks submissions against the same folder as the worker."""
    monkeypatch.setenv("ZOOBOARD_TIMM_WEIGHTS_DIR", str(lite_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    testset, _ = import_testset("imagenet", BUNDLED, image_archive())
    return testset


def test_lite0_by_identifier_is_evaluated_with_its_folders_weights_and_recipe(
    queue_settings, imagenet, alice, api_as, lite_dir, wait_until_finished
):
    response = post(api_as(alice), {"testset": "imagenet", "model_identifier": identifier(0)})
    assert response.status_code == 201, response.json()
    submission = wait_until_finished(response.json()["id"], deadline_seconds=480)
    assert submission.status == Status.DONE, submission.error_message
    assert submission.preprocessing == efficientnet_lite.recipe(0).to_dict()
    assert submission.progress_done == 1300
    numbers, images = decode_val_images()
    expected = independent_figures(
        onnx_logits(lite_dir / "efficientnet_lite0.onnx", batch(images, 0)), raw_labels(numbers)
    )
    for label_set in ("original", "clean", "plausible"):
        metrics = submission.results.get(label_set__name=label_set).metrics
        assert metrics["top1"] == pytest.approx(expected[label_set], abs=1e-9), label_set
    nll = submission.results.get(label_set__name="original").metrics["nll"]
    assert nll == pytest.approx(expected["nll"], abs=1e-4)

"""The timm format on the real CIFAR-10 test set: our engine against timm's own validate.py-style pipeline,
preprocessing from the pretrained configuration, and pretrained weights only from a local folder."""

from __future__ import annotations

import csv
import io
import tarfile

import numpy as np
import pytest
import timm
import torch
from PIL import Image
from safetensors.torch import load_file, save_file
from timm.data import create_transform, resolve_data_config

from evaluator.engine.evaluation import evaluate
from plugins import registry
from plugins.contracts import ModelSource
from plugins.errors import SubmissionError
from plugins.recipe import Recipe
from plugins.submission_check import check_model
from tests import independent
from tests.conftest import BUNDLED_CIFAR10

TIMM = registry.get("model_format", "timm")
CIFAR_DEFAULTS = Recipe(input_size=32, crop_pct=1.0)


@pytest.fixture(scope="module")
def resnet18_weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("timm") / "resnet18-cifar10.safetensors"
    save_file(timm.create_model("resnet18", num_classes=10).state_dict(), path)
    return path


def timm_pipeline_scores(weights_path, input_size: int) -> np.ndarray:
    """timm's own way: create_transform from resolve_data_config on each decoded JPEG, then the model."""
    model = timm.create_model("resnet18", num_classes=10)
    model.load_state_dict(load_file(str(weights_path)))
    transform = create_transform(**resolve_data_config({"input_size": (3, input_size, input_size)}, model=model))
    with open(BUNDLED_CIFAR10 / "cifar10_test_index.csv", newline="") as handle:
        members = [row["jpeg_path_in_tar"] for row in csv.DictReader(handle)]
    scores = []
    with tarfile.open(BUNDLED_CIFAR10 / "cifar10_test_jpeg_q75.tar") as archive, torch.inference_mode():
        for start in range(0, len(members), 500):
            images = [
                Image.open(io.BytesIO(archive.extractfile(m).read())).convert("RGB")
                for m in members[start : start + 500]
            ]
            scores.append(model.eval()(torch.stack([transform(image) for image in images])).numpy())
    return np.concatenate(scores)


def test_the_engine_matches_timms_own_pipeline(resnet18_weights, cifar10_root):
    source = ModelSource(resnet18_weights, "timm:resnet18")
    _, recipe = check_model("timm", source, 10, {"input_size": 32}, CIFAR_DEFAULTS)
    assert (recipe.crop_pct, recipe.interpolation) == (0.95, "bicubic")  # resnet18.a1_in1k's configuration
    metrics = evaluate(source, "timm", recipe, cifar10_root).scores["original"]["metrics"]
    _, labels = independent.cifar10_images_and_labels()
    scores = timm_pipeline_scores(resnet18_weights, 32)
    assert metrics["top1"] == pytest.approx(independent.top_k_accuracy_loop(scores, labels, 1), abs=2e-4)
    assert metrics["top5"] == pytest.approx(independent.top_k_accuracy_loop(scores, labels, 5), abs=2e-4)


def test_preprocessing_follows_the_pretrained_configuration(tmp_path):
    weights = tmp_path / "vit.safetensors"
    save_file(timm.create_model("vit_tiny_patch16_224", num_classes=10).state_dict(), weights)
    info = TIMM.inspect(ModelSource(weights, "timm:vit_tiny_patch16_224.augreg_in21k_ft_in1k"), 10)
    assert info.recipe_from_model["mean"] == [0.5, 0.5, 0.5] and info.recipe_from_model["crop_pct"] == 0.9
    assert info.details["input_shape"] == ["N", 3, 224, 224]  # a ViT's input size is fixed


@pytest.fixture
def pretrained_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOOBOARD_TIMM_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


def test_missing_pretrained_weights_name_what_the_operator_must_provide(pretrained_folder):
    with pytest.raises(SubmissionError) as error:
        TIMM.inspect(ModelSource(None, "timm:resnet18.a1_in1k"), 1000)
    assert str(error.value) == (
        "no local weights for timm:resnet18.a1_in1k, and nothing is downloaded at evaluation time: the operator must "
        "put model.safetensors in $ZOOBOARD_TIMM_WEIGHTS_DIR/resnet18.a1_in1k/ or fill the Hugging Face cache; "
        "or upload your own safetensors weights"
    )


def test_pretrained_weights_come_from_the_operators_folder(pretrained_folder):
    torch.manual_seed(1)
    reference = timm.create_model("resnet18", num_classes=1000).eval()
    (pretrained_folder / "resnet18.a1_in1k").mkdir()
    save_file(reference.state_dict(), pretrained_folder / "resnet18.a1_in1k" / "model.safetensors")
    source = ModelSource(None, "timm:resnet18.a1_in1k")
    assert TIMM.inspect(source, 1000).details["weights"] == "resnet18.a1_in1k"
    batch = np.random.default_rng(0).normal(size=(2, 3, 64, 64)).astype(np.float32)
    predicted = TIMM.load(source, Recipe(input_size=64), 1000).predict(batch)
    with torch.inference_mode():
        expected = reference(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(predicted, expected, rtol=1e-4, atol=1e-4)

"""The engine on the real bundled CIFAR-10 test set and the real pretrained models, against an independent
computation and against the figures measured independently on this JPEG copy."""

from __future__ import annotations

import numpy as np
import pytest

from evaluator.engine.evaluation import evaluate
from plugins.contracts import ModelSource
from plugins.recipe import IMAGENET_MEAN, IMAGENET_STD, Recipe
from plugins.submission_check import check_model
from tests import independent

# name: (recipe values, top-1 %, top-5 % or None, tolerance in points)
MEASURED = {
    "resnet20": ({"mean": IMAGENET_MEAN, "std": IMAGENET_STD, "value_range": 1.0}, 81.03, 98.72, 0.01),
    "resnet56": ({"mean": IMAGENET_MEAN, "std": IMAGENET_STD, "value_range": 1.0}, 83.20, 98.95, 0.01),
    "resnet8": ({"mean": (0, 0, 0), "std": (1, 1, 1), "value_range": 255.0}, 75.48, None, 0.1),
}


@pytest.fixture(scope="module")
def images_and_labels():
    return independent.cifar10_images_and_labels()


@pytest.fixture(scope="module")
def evaluations(model_path, cifar10_root):
    """The engine's evaluation of each model, with the recipe read from the converted model's own metadata."""
    results = {}
    for name in MEASURED:
        _, recipe = check_model("onnx", ModelSource(model_path(name)), 10, {}, Recipe(input_size=32, crop_pct=1.0))
        results[name] = evaluate(ModelSource(model_path(name)), "onnx", recipe, cifar10_root)
    return results


@pytest.mark.parametrize("name", MEASURED)
def test_top1_and_top5_match_an_independent_computation(name, evaluations, images_and_labels, model_path):
    images, labels = images_and_labels
    values, *_ = MEASURED[name]
    scores = independent.model_scores(model_path(name), images, values["mean"], values["std"], values["value_range"])
    metrics = evaluations[name].scores["original"]["metrics"]
    assert metrics["top1"] == independent.top_k_accuracy_loop(scores, labels, 1)
    assert metrics["top5"] == independent.top_k_accuracy_loop(scores, labels, 5)


@pytest.mark.parametrize("name", MEASURED)
def test_it_reproduces_the_independently_measured_accuracy(name, evaluations):
    _, top1, top5, tolerance = MEASURED[name]
    metrics = evaluations[name].scores["original"]["metrics"]
    assert metrics["top1"] * 100 == pytest.approx(top1, abs=tolerance)
    if top5 is not None:
        assert metrics["top5"] * 100 == pytest.approx(top5, abs=tolerance)


def test_stored_probabilities_agree_with_the_model_outputs(evaluations, images_and_labels, model_path):
    images, _ = images_and_labels
    scores = independent.model_scores(model_path("resnet20"), images[:500], IMAGENET_MEAN, IMAGENET_STD, 1.0)
    expected = np.exp(scores - scores.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    predictions = evaluations["resnet20"].predictions
    np.testing.assert_allclose(predictions.probs[:500].astype(np.float32), expected, atol=1e-3)
    assert (predictions.top_classes[:500, 0] == scores.argmax(1)).all()


def test_per_class_slices_add_up_to_the_whole(evaluations, images_and_labels):
    _, labels = images_and_labels
    result = evaluations["resnet56"].scores["original"]
    slices = result["slices"]["class"]
    assert sum(s["count"] for s in slices.values()) == len(labels)
    weighted = sum(s["count"] * s["metrics"]["top1"] for s in slices.values()) / len(labels)
    assert weighted == pytest.approx(result["metrics"]["top1"])

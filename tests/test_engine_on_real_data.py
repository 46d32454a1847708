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


def test_stored_log_probabilities_agree_with_the_model_outputs(evaluations, model_outputs):
    outputs, kind = model_outputs("resnet20")
    expected = independent.log_probabilities(outputs[:500], kind)
    predictions = evaluations["resnet20"].predictions
    np.testing.assert_allclose(predictions.log_probs()[:500], expected, atol=1e-4)
    assert (predictions.top_classes[:500, 0] == outputs[:500].argmax(1)).all()


def test_per_class_slices_add_up_to_the_whole(evaluations, images_and_labels):
    _, labels = images_and_labels
    result = evaluations["resnet56"].scores["original"]
    slices = result["slices"]["class"]
    assert sum(s["count"] for s in slices.values()) == len(labels)
    weighted = sum(s["count"] * s["metrics"]["top1"] for s in slices.values()) / len(labels)
    assert weighted == pytest.approx(result["metrics"]["top1"])


def test_the_chart_aggregates_match_the_model_outputs(evaluations, images_and_labels, model_path):
    """The confusion matrix and the reliability diagram the submission page draws, against the model's own
    logits and the raw labels, counted one image at a time. The stored top-1 log-probabilities are float32, so
    an image within float32's rounding of a bin edge may fall in the neighbouring bin: the bins' counts may
    differ by those images only, the matrix not at all."""
    images, labels = images_and_labels
    scores = independent.model_scores(model_path("resnet20"), images, IMAGENET_MEAN, IMAGENET_STD, 1.0)
    charts = evaluations["resnet20"].scores["original"]["charts"]

    matrix = [[0] * 10 for _ in range(10)]
    for logits, label in zip(scores, labels, strict=True):
        matrix[int(label)][int(np.argmax(logits))] += 1
    assert charts["confusion"]["matrix"] == matrix
    assert charts["confusion"]["true_counts"] == [sum(row) for row in matrix]

    bins = [{"count": 0, "hits": 0, "confidence": 0.0} for _ in range(15)]
    near_an_edge = 0  # images float32's rounding of the log-probability may carry across a bin edge
    for logits, label in zip(scores.astype(np.float64), labels, strict=True):
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        confidence = float(probabilities.max())
        index = min(14, max(0, int(np.ceil(confidence * 15)) - 1))
        bins[index]["count"] += 1
        bins[index]["hits"] += int(np.argmax(logits) == label)
        bins[index]["confidence"] += confidence
        near_an_edge += abs(confidence * 15 - round(confidence * 15)) <= confidence * 15 * 2**-20
    stored = charts["reliability"]
    assert sum(item["count"] for item in stored) == len(labels)
    moved = sum(abs(ours["count"] - theirs["count"]) for ours, theirs in zip(stored, bins, strict=True))
    assert moved <= 2 * near_an_edge, (moved, near_an_edge)
    for ours, theirs in zip(stored, bins, strict=True):
        if theirs["count"] and ours["count"] == theirs["count"]:
            assert ours["accuracy"] == pytest.approx(theirs["hits"] / theirs["count"], abs=1e-4)
            assert ours["confidence"] == pytest.approx(theirs["confidence"] / theirs["count"], abs=1e-4)

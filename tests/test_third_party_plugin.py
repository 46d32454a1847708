"""A third-party model format, installed as a package with a `zooboard.plugins` entry point and nothing
else, evaluates a model end to end through `manage.py evaluate`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from plugins.recipe import IMAGENET_MEAN, IMAGENET_STD
from tests import independent
from tests.conftest import run_python


@pytest.fixture(scope="module")
def linear_model(tmp_path_factory):
    rng = np.random.default_rng(3)
    path = tmp_path_factory.mktemp("linear") / "linear.npz"
    np.savez(
        path,
        weight=rng.normal(0, 0.01, (3 * 32 * 32, 10)).astype(np.float32),
        bias=rng.normal(0, 0.1, 10).astype(np.float32),
    )
    return path


def evaluate_with_plugin(plugin_path, data_dir, *args):
    return run_python("manage.py", "evaluate", *args, PYTHONPATH=str(plugin_path), ZOOBOARD_DATA_DIR=str(data_dir))


def numpy_scores(model_path, images):
    with np.load(model_path) as stored:
        weight, bias = stored["weight"], stored["bias"]
    x = (images / 255.0 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    return x.transpose(0, 3, 1, 2).reshape(len(images), -1) @ weight + bias


def test_an_installed_plugin_evaluates_a_model_end_to_end(third_party_plugin, data_dir, linear_model):
    done = evaluate_with_plugin(
        third_party_plugin,
        data_dir,
        "--format",
        "linear-npz",
        "--model",
        linear_model,
        "--testset",
        "cifar10",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    images, labels = independent.cifar10_images_and_labels()
    scores = numpy_scores(linear_model, images)
    metrics = report["label_sets"]["original"]["metrics"]
    assert report["provider"] == "numpy"
    assert metrics["top1"] == pytest.approx(independent.top_k_accuracy_loop(scores, labels, 1), abs=1e-4)
    assert metrics["top5"] == pytest.approx(independent.top_k_accuracy_loop(scores, labels, 5), abs=1e-4)


def test_the_plugin_is_unknown_without_the_package(data_dir, linear_model, tmp_path):
    done = evaluate_with_plugin(
        tmp_path, data_dir, "--format", "linear-npz", "--model", linear_model, "--testset", "cifar10"
    )
    assert done.returncode == 1
    assert done.stderr == "cannot evaluate: no model format plugin named 'linear-npz' (available: onnx, timm)\n"


def test_the_plugins_own_refusals_reach_the_submitter(third_party_plugin, data_dir, tmp_path):
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, weight=np.zeros((3 * 32 * 32, 7), np.float32), bias=np.zeros(7, np.float32))
    done = evaluate_with_plugin(
        third_party_plugin, data_dir, "--format", "linear-npz", "--model", wrong, "--testset", "cifar10"
    )
    assert done.stderr == "cannot evaluate: the model has 7 classes; this test set has 10\n"

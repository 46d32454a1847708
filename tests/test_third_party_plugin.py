"""A third-party model format, installed as a package with a `zooboard.plugins` entry point and nothing
else, evaluates a model end to end through `manage.py evaluate`; a third-party label protocol from the same
package gets a board with its own columns, sorted in their own directions."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import numpy as np
import pytest

from evaluator.engine.scoring import score_label_set
from leaderboard.models import LabelSet, Result, Status, Submission
from plugins import registry
from plugins.predictions import Predictions
from plugins.recipe import IMAGENET_MEAN, IMAGENET_STD
from plugins.testset import LabelSetData, TestSetManifest
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


@pytest.fixture
def top_two(third_party_plugin, monkeypatch):
    """The package's label protocol loaded in this process through its entry point, as the site loads plugins;
    the registry is put back as it was afterwards."""
    monkeypatch.syspath_prepend(str(third_party_plugin))
    modules = ("zooboard_top2", "zooboard_linear_npz")
    for module in modules:
        monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.setattr(registry, "_entries", {kind: dict(entries) for kind, entries in registry._entries.items()})
    monkeypatch.setattr(registry, "_loaded", False)
    registry.load_all()
    yield registry.get("label_protocol", "top-two")
    for module in modules:  # imported here: a later test loading the package must import it afresh
        sys.modules.pop(module, None)


def test_a_plugin_protocol_gets_a_board_sorted_by_its_own_columns(top_two, cifar10, cifar10_root, alice, client):
    manifest = TestSetManifest.load(cifar10_root)
    info = replace(manifest.current_label_set("original"), name="top-two", protocol="top-two", title="Top-2")
    LabelSet.objects.create(testset=cifar10, name="top-two", protocol="top-two", title="Top-2", version=info.version)
    targets = LabelSetData.load(cifar10_root, info).targets
    rng = np.random.default_rng(0)
    expected = {}
    for name, skill in (("sharp", 2.0), ("blunt", 0.8), ("guessing", 0.0)):
        logits = rng.normal(size=(len(targets), 10)).astype(np.float32)
        logits[np.arange(len(targets)), targets] += skill
        submission = Submission.objects.create(owner=alice, testset=cifar10, name=name, preprocessing={})
        submission.move_to(Status.RUNNING)
        submission.move_to(Status.SCORING)
        predictions = Predictions.from_logits(logits)
        Result.objects.store(submission, {"top-two": score_label_set(predictions, cifar10_root, manifest, info)})
        submission.move_to(Status.DONE)
        # independently, from the logits: the label's place among the five best, six where it is not there
        order = np.argsort(-logits, axis=1)[:, :5]
        place = np.where((order == targets[:, None]).any(1), (order == targets[:, None]).argmax(1) + 1, 6)
        expected[name] = {"top2": (order[:, :2] == targets[:, None]).any(1).mean(), "label_place": place.mean()}

    board = client.get("/api/testsets/cifar10/leaderboard/?label_set=top-two").json()
    assert board["columns"] == [
        {"metric": "top2", "title": "Top-2", "lower_is_better": False},
        {"metric": "label_place", "title": "Place of the label", "lower_is_better": True},
    ]
    assert [row["name"] for row in board["rows"]] == sorted(expected, key=lambda n: -expected[n]["top2"])
    for row in board["rows"]:
        for metric, value in expected[row["name"]].items():
            assert row["metrics"][metric] == pytest.approx(value, abs=2e-3)  # float16 ties among guesses
    by_place = sorted(expected, key=lambda n: expected[n]["label_place"])
    ascending = client.get("/api/testsets/cifar10/leaderboard/?label_set=top-two&sort=label_place").json()
    assert [row["name"] for row in ascending["rows"]] == by_place and ascending["order"] == "asc"
    descending = client.get("/api/testsets/cifar10/leaderboard/?label_set=top-two&sort=label_place&order=desc")
    assert [row["name"] for row in descending.json()["rows"]] == by_place[::-1]
    page = client.get("/testsets/cifar10/?label_set=top-two&sort=label_place").content.decode()
    assert "Place of the label" in page
    assert [page.index(f">{name}</a>") for name in by_place] == sorted(page.index(f">{n}</a>") for n in by_place)

"""The small real ImageNet test set: the 1,300 val images from the shared data folder with every bundled
annotation joined, evaluated end to end by the engine and broken down into ImageNet-X and mistake slices."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from evaluator.engine.evaluation import evaluate
from plugins import registry
from plugins.contracts import ModelSource
from plugins.recipe import Recipe
from plugins.testset import testset_root
from tests.conftest import BUNDLED, require_shared
from tests.onnx_models import pooled_linear


@pytest.fixture(scope="module")
def imagenet_root(tmp_path_factory):
    images = require_shared("imagenet-val-images/verisilicon_227px") / "ilsvrc2012_val_1300_227px.tar"
    root = testset_root(tmp_path_factory.mktemp("data"), "imagenet", 1)
    registry.get("testset_reader", "imagenet").import_testset(BUNDLED, root, 1, images)
    return root


@pytest.fixture(scope="module")
def scores(imagenet_root, tmp_path_factory):
    """A small random linear model (1000 classes, 32x32 input): the joins matter here, not the accuracy."""
    model = pooled_linear(num_classes=1000)
    model.graph.initializer[0].CopyFrom(
        onnx.numpy_helper.from_array(np.random.default_rng(0).normal(size=(3, 1000)).astype(np.float32), "weight")
    )
    path = tmp_path_factory.mktemp("model") / "linear.onnx"
    onnx.save(model, path)
    return evaluate(ModelSource(path), "onnx", Recipe(input_size=32, crop_pct=1.0), imagenet_root).scores


def test_it_holds_the_1300_images_in_val_order(imagenet_root):
    members = json.loads((imagenet_root / "members.json").read_text())["members"]
    numbers = [int(member[-13:-5]) for member in members]
    assert len(numbers) == 1300 and numbers == sorted(numbers)


def test_each_label_set_counts_what_the_joins_found(scores):
    assert set(scores) == {"original", "clean", "plausible"}
    assert scores["plausible"]["counts"] == {"scored": 1243, "left_out": 57, "multi_label": 138}
    assert scores["clean"]["counts"]["errors"] == 80
    assert scores["original"]["counts"]["scored"] == 1300


def test_imagenet_slices_cover_factors_metaclasses_and_mistakes(scores):
    slices = scores["original"]["slices"]
    assert sum(s["count"] for s in slices["imagenet_x_top_factor"].values()) == 1278
    assert len(slices["superclass"]) == 100
    assert sum(s["count"] for s in slices["superclass"].values()) == 1300
    assert "major-mistakes" in slices["mistakes"]
    assert slices["mistakes"]["vit3b: major"]["count"] <= slices["mistakes"]["major-mistakes"]["count"]

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


def test_macro_std_matches_a_loop(imagenet_root):
    """Per class: accuracy in each ImageNet-X top-factor subgroup, their size-weighted standard deviation,
    for predictions right on a random 60% of the images."""
    from evaluator.engine.scoring import score_all
    from plugins.predictions import Predictions
    from plugins.testset import LabelSetData, TestSetManifest, read_annotations

    manifest = TestSetManifest.load(imagenet_root)
    labels = LabelSetData.load(imagenet_root, manifest.current_label_set("original")).targets
    right = np.random.default_rng(1).random(len(labels)) < 0.6
    probs = np.zeros((len(labels), 1000), np.float32)
    probs[np.arange(len(labels)), np.where(right, labels, (labels + 1) % 1000)] = 1.0
    result = score_all(Predictions.from_probabilities(probs), imagenet_root, manifest)["original"]

    groups = read_annotations(imagenet_root, manifest)["imagenet_x_top"].tolist()
    by_class = {}
    for label, group, hit in zip(labels.tolist(), groups, right.tolist(), strict=True):
        if group >= 0:
            by_class.setdefault(label, {}).setdefault(group, []).append(hit)
    stds = []
    for subgroups in by_class.values():
        sizes = [len(hits) for hits in subgroups.values()]
        accuracies = [sum(hits) / len(hits) for hits in subgroups.values()]
        mean = sum(n * a for n, a in zip(sizes, accuracies, strict=True)) / sum(sizes)
        stds.append((sum(n * (a - mean) ** 2 for n, a in zip(sizes, accuracies, strict=True)) / sum(sizes)) ** 0.5)
    assert result["summaries"]["macro_std"]["value"] == pytest.approx(sum(stds) / len(stds))
    assert result["summaries"]["macro_std"]["value"] > 0.05


@pytest.mark.parametrize("layout", ["flat", "class folders"])
def test_an_operators_val_folder_is_read_where_it_lies(layout, tmp_path):
    """A full val copy is a folder of ILSVRC2012_val_*.JPEG files, flat or in class folders (here 12 of them)."""
    import tarfile

    archive = require_shared("imagenet-val-images/verisilicon_227px") / "ilsvrc2012_val_1300_227px.tar"
    folder = tmp_path / "val"
    with tarfile.open(archive) as images:
        members = sorted((m for m in images.getmembers() if m.isfile()), key=lambda m: m.name)[:12]
        for index, member in enumerate(members):
            target = folder / (f"n{index:08d}" if layout == "class folders" else "") / member.name.split("/")[-1]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(images.extractfile(member).read())
    (folder / "LOC_synset_mapping.txt").write_text("not an image\n")
    root = testset_root(tmp_path / "data", "imagenet", 1)
    manifest = registry.get("testset_reader", "imagenet").import_testset(BUNDLED, root, 1, folder)
    assert manifest.num_examples == 12
    assert not (root / "images.tar").exists()  # not copied
    decoded = list(registry.get("testset_reader", "imagenet").images(root, manifest))
    assert len(decoded) == 12 and decoded[0].size == (227, 227)

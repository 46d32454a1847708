"""The ONNX path GPU workers run: the recipe's normalisation put in front of the graph, uint8 pixels in. Run here
on the CPU, where it must give what the host path gives, and fail with the same sentences."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from evaluator.engine.pixel_cache import cached_pixels
from evaluator.engine.run import run_model
from plugins import registry
from plugins.contracts import ModelSource
from plugins.errors import SubmissionError
from plugins.formats import onnx_format
from plugins.formats.onnx_format import OnnxPredictor, normalising_on_device
from plugins.recipe import Recipe
from plugins.testset import TestSetManifest
from tests import onnx_models
from tests.helpers import CAFFE
from tests.hostile_corpus import RUN_TIME

RGB = Recipe(input_size=32, crop_pct=1.0, mean=(0.4914, 0.4822, 0.4465), std=(0.247, 0.243, 0.261))


@pytest.fixture(scope="module")
def pixels(cifar10_root):
    return np.asarray(cached_pixels(cifar10_root, TestSetManifest.load(cifar10_root), RGB)[:1000])


@pytest.mark.parametrize("recipe", [RGB, CAFFE], ids=["RGB 0-1", "BGR 0-255"])
def test_normalising_in_the_graph_gives_the_host_paths_predictions(model_path, pixels, recipe):
    source = ModelSource(model_path("resnet20"))
    on_host = OnnxPredictor(onnx_format._session(str(model_path("resnet20"))))  # the host path, on any machine
    in_graph = normalising_on_device(source, recipe)
    host_predictions, _ = run_model(on_host, pixels, recipe, 10, 256)
    graph_predictions, _ = run_model(in_graph, pixels, recipe, 10, 256)
    np.testing.assert_array_equal(graph_predictions.top_classes[:, 0], host_predictions.top_classes[:, 0])
    np.testing.assert_allclose(graph_predictions.log_probs(), host_predictions.log_probs(), atol=1e-4)


class OnDevice:
    provider = "CUDAExecutionProvider"


@pytest.mark.parametrize(
    ("providers", "on_device", "expected"),
    [
        (["CPUExecutionProvider"], None, OnnxPredictor),  # a CPU build: normalised on the host
        (["CUDAExecutionProvider", "CPUExecutionProvider"], None, OnnxPredictor),  # GPU build, no GPU: fell back
        (["CUDAExecutionProvider", "CPUExecutionProvider"], OnDevice(), OnDevice),  # the GPU took the session
    ],
)
def test_the_pixels_go_to_the_device_only_where_a_device_took_the_session(
    model_path, monkeypatch, providers, on_device, expected
):
    """What load() picks, decided by the provider that took the session, whatever this machine has."""
    monkeypatch.setattr(onnx_format, "_providers", lambda: providers)
    if on_device is not None:
        monkeypatch.setattr(onnx_format, "normalising_on_device", lambda source, recipe: on_device)
    predictor = registry.get("model_format", "onnx").load(ModelSource(model_path("resnet20")), RGB, 10)
    assert type(predictor) is expected


def test_a_fixed_batch_model_and_a_colliding_input_name_still_work(tmp_path, pixels):
    model = onnx_models.pooled_linear(fixed_batch=4)
    model.graph.input[0].name = "zooboard_pixels"  # the name we would have picked for our own input
    for node in model.graph.node:
        node.input[:] = ["zooboard_pixels" if name == "input" else name for name in node.input]
    path = tmp_path / "fixed.onnx"
    onnx.save(model, path)
    source = ModelSource(path)
    predictions, _ = run_model(normalising_on_device(source, RGB), pixels[:10], RGB, 10, 3)
    expected, _ = run_model(registry.get("model_format", "onnx").load(source, RGB, 10), pixels[:10], RGB, 10, 3)
    np.testing.assert_array_equal(predictions.top_classes, expected.top_classes)


@pytest.mark.parametrize("case", RUN_TIME, ids=[case.name for case in RUN_TIME])
def test_run_time_failures_get_the_same_sentence(case, tmp_path, model_path, cifar10_root):
    """Over the whole test set with its default recipe, as the worker runs them."""
    fields = case.build(tmp_path, {"resnet20": model_path("resnet20")})
    manifest = TestSetManifest.load(cifar10_root)
    overrides = json.loads(fields.get("preprocessing", "{}"))
    recipe = Recipe.from_dict({**manifest.default_preprocessing, **overrides})
    everything = cached_pixels(cifar10_root, manifest, recipe)
    with pytest.raises(SubmissionError) as raised:
        run_model(normalising_on_device(ModelSource(fields["model_file"]), recipe), everything, recipe, 10, 256)
    assert case.matches(str(raised.value)), str(raised.value)

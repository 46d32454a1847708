"""The ONNX format plugin at submit time and at run time (issue 4 extends this into the full hostile corpus)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from evaluator.engine.run import run_model
from plugins import registry
from plugins.contracts import ModelSource
from plugins.errors import SubmissionError
from plugins.recipe import Recipe
from tests import onnx_models

ONNX = registry.get("model_format", "onnx")


def save(model, tmp_path, name="model.onnx"):
    path = tmp_path / name
    onnx.save(model, path)
    return path


def test_a_model_exported_with_a_fixed_batch_of_one_runs_on_any_batch(tmp_path):
    path = save(onnx_models.pooled_linear(fixed_batch=1), tmp_path)
    info = ONNX.inspect(ModelSource(path), 10)
    assert info.details["input_shape"] == [1, 3, 32, 32]
    pixels = np.random.default_rng(0).integers(0, 256, (7, 32, 32, 3), dtype=np.uint8)
    predictions, _ = run_model(
        ONNX.load(ModelSource(path), Recipe(input_size=32), 10), pixels, Recipe(input_size=32), 10, batch_size=4
    )
    assert len(predictions) == 7


def test_external_data_is_refused_before_anything_reads_it(tmp_path):
    model = onnx_models.pooled_linear()
    weight = model.graph.initializer[0]
    weight.data_location = onnx.TensorProto.EXTERNAL
    weight.ClearField("raw_data")
    weight.ClearField("float_data")
    weight.external_data.add(key="location", value="../../etc/passwd")
    with pytest.raises(SubmissionError, match="keeps its data in an external file; external data is not accepted"):
        ONNX.inspect(ModelSource(save(model, tmp_path)), 10)


def test_a_custom_operator_domain_is_refused(tmp_path):
    model = onnx_models.pooled_linear()
    model.opset_import.append(onnx.helper.make_opsetid("com.example.evil", 1))
    with pytest.raises(SubmissionError, match=r"non-standard operator domains \(com.example.evil\)"):
        ONNX.inspect(ModelSource(save(model, tmp_path)), 10)


def test_an_input_size_that_contradicts_the_recipe_is_refused(tmp_path):
    from plugins.submission_check import check_model

    path = save(onnx_models.pooled_linear(), tmp_path)
    with pytest.raises(SubmissionError, match="the model takes 32x32 images but the preprocessing gives 64x64"):
        check_model("onnx", ModelSource(path), 10, {"input_size": 64}, Recipe(input_size=32))


def test_probabilities_that_do_not_sum_to_one_are_refused(tmp_path):
    path = save(onnx_models.pooled_linear(), tmp_path)
    recipe = Recipe(input_size=32, output="probabilities")
    pixels = np.zeros((2, 32, 32, 3), np.uint8)
    with pytest.raises(SubmissionError, match="declared to output probabilities, but its rows do not sum to 1"):
        run_model(ONNX.load(ModelSource(path), recipe, 10), pixels, recipe, 10, batch_size=2)


def test_a_fixed_batch_that_does_not_fit_is_not_retried_smaller(tmp_path):
    from tests.hostile_corpus import terabytes_at_run_time

    model = terabytes_at_run_time()
    for value in (model.graph.input[0], model.graph.output[0]):
        value.type.tensor_type.shape.dim[0].dim_value = 4
    path = save(model, tmp_path)
    recipe = Recipe(input_size=32)
    pixels = np.zeros((10, 32, 32, 3), np.uint8)
    with pytest.raises(SubmissionError, match="exported with a fixed batch of 4, which does not fit in the device's"):
        run_model(ONNX.load(ModelSource(path), recipe, 10), pixels, recipe, 10, batch_size=8)

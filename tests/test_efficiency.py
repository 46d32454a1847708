"""Per-submission efficiency figures: counted against independent counts, measured on a real run, shown on the
pages and the API."""

from __future__ import annotations

import json
import math
import re
import time

import numpy as np
import onnx
import onnxruntime
import pytest
import timm
import torch
from django.core.management import CommandError, call_command
from django.template.defaultfilters import floatformat
from onnx import numpy_helper

from evaluator.engine.evaluation import predict
from evaluator.workers import command, plan
from plugins import registry
from plugins.contracts import ModelSource
from plugins.formats.onnx_format import OnnxPredictor
from plugins.recipe import Recipe
from plugins.submission_check import check_model
from tests.helpers import finished_submission


def conv_and_gemm_macs(path) -> int:
    """Multiply-accumulates of every Conv and Gemm/MatMul, from onnx's own shape inference."""
    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    shapes = {
        value.name: [dim.dim_value for dim in value.type.tensor_type.shape.dim]
        for value in [*model.graph.value_info, *model.graph.output, *model.graph.input]
    }
    weights = {tensor.name: list(tensor.dims) for tensor in model.graph.initializer}
    total = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            out_channels, in_per_group, *kernel = weights[node.input[1]]
            _, _, *spatial = shapes[node.output[0]]
            total += math.prod(spatial) * out_channels * in_per_group * math.prod(kernel)
        elif node.op_type in ("Gemm", "MatMul"):
            total += math.prod(weights[node.input[1]])
    return total


@pytest.mark.parametrize("name", ["resnet20", "resnet8"])
def test_onnx_parameters_and_macs_match_an_independent_count(model_path, name):
    path = model_path(name)
    # batch 1 in: shape inference needs a concrete batch to give spatial sizes
    model = onnx.load(str(path))
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
    fixed = path.parent / f"{name}-batch1.onnx"
    onnx.save(model, fixed)
    cost = registry.get("model_format", "onnx").cost(ModelSource(path), Recipe(input_size=32), 10)
    assert cost["parameters"] == sum(numpy_helper.to_array(t).size for t in onnx.load(str(path)).graph.initializer)
    convolutions = conv_and_gemm_macs(fixed)
    # onnx-tool also counts the additions, ReLUs and pooling: a sliver on top of the convolutions
    assert convolutions <= cost["macs"] <= convolutions * 1.02


def test_timm_parameters_and_macs_match_an_independent_count():
    cost = registry.get("model_format", "timm").cost(ModelSource(identifier="timm:resnet18"), Recipe(), 1000)
    model = timm.create_model("resnet18", num_classes=1000).eval()
    counted = []

    def count(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            kernel = module.in_channels // module.groups * math.prod(module.kernel_size)
            counted.append(output.numel() * kernel)
        elif isinstance(module, torch.nn.Linear):
            counted.append(output.numel() * module.in_features)

    for module in model.modules():
        module.register_forward_hook(count)
    with torch.inference_mode():
        model(torch.zeros(1, 3, 224, 224))
    assert cost["macs"] == sum(counted)
    assert cost["parameters"] == sum(parameter.numel() for parameter in model.parameters())


@pytest.fixture(scope="module")
def resnet8_evaluation(model_path, cifar10_root):
    """The evaluation, with the time of the whole call and of every batch the model ran, timed from outside."""
    source = ModelSource(model_path("resnet8"))
    _, recipe = check_model("onnx", source, 10, {}, Recipe(input_size=32, crop_pct=1.0))
    batches, run_model_batch = [], OnnxPredictor.predict

    def timed(predictor, batch):
        started = time.perf_counter()
        scores = run_model_batch(predictor, batch)
        batches.append((len(batch), time.perf_counter() - started))
        return scores

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(OnnxPredictor, "predict", timed)
        started = time.perf_counter()
        evaluation = predict(source, "onnx", recipe, cifar10_root, batch_size=500, latency_runs=20)
        evaluation.outside = {"whole": time.perf_counter() - started, "batches": batches}
    return evaluation


def test_a_real_run_records_what_it_cost_and_where_it_ran(resnet8_evaluation):
    efficiency, seconds = resnet8_evaluation.efficiency, resnet8_evaluation.seconds
    # the throughput's time lies between the model's own time on the test set's batches and the whole call's
    test_set_batches = [seconds for size, seconds in resnet8_evaluation.outside["batches"] if size == 500]
    assert len(test_set_batches) == 20
    assert sum(test_set_batches) <= 10_000 / efficiency["throughput"] <= resnet8_evaluation.outside["whole"]
    assert efficiency["batch_size"] == 500
    assert 0 < efficiency["latency"]["p50_ms"] <= efficiency["latency"]["p95_ms"]
    assert efficiency["latency"]["runs"] == 20
    assert efficiency["peak_memory"]["kind"] == "host" and efficiency["peak_memory"]["bytes"] > 0
    assert efficiency["precision"]["precision"] == "float32"
    assert efficiency["provider"] == "CPUExecutionProvider"
    machine = efficiency["machine"]
    assert machine["device_kind"] == "cpu" and machine["cpu_cores"] >= 1
    assert machine["software"]["onnxruntime"] == onnxruntime.__version__
    assert machine["software"]["numpy"] == np.__version__
    assert efficiency["parameters"] == 77_706
    assert 0 < seconds["to_first_batch"] <= seconds["load"] + seconds["pixels"] + seconds["run"]


def test_a_cost_that_cannot_be_counted_leaves_the_evaluation_intact(model_path, cifar10_root, monkeypatch):
    def fail(*args):
        raise RuntimeError("an operator onnx-tool has never seen")

    monkeypatch.setattr(type(registry.get("model_format", "onnx")), "cost", fail)
    source = ModelSource(model_path("resnet8"))
    _, recipe = check_model("onnx", source, 10, {}, Recipe(input_size=32, crop_pct=1.0))
    evaluation = predict(source, "onnx", recipe, cifar10_root, latency_runs=1)
    assert "parameters" not in evaluation.efficiency and evaluation.efficiency["throughput"] > 0
    assert len(evaluation.predictions) == 10_000


@pytest.mark.django_db
def test_the_pages_and_the_api_show_the_figures(cifar10, alice, client, resnet8_evaluation):
    submission = finished_submission(cifar10, alice, "ResNet-8", 0.7548, 0.9851)
    submission.efficiency = resnet8_evaluation.efficiency
    submission.timings = {key: round(value, 3) for key, value in resnet8_evaluation.seconds.items()}
    submission.save(update_fields=["efficiency", "timings"])
    efficiency = resnet8_evaluation.efficiency

    board = client.get("/testsets/cifar10/").content.decode()
    assert "0.08 M" in board  # 77,706 parameters
    assert f"{efficiency['macs'] / 1e9:.3f}" in board
    assert f"{efficiency['throughput']:,.0f}" in board
    assert f"{floatformat(efficiency['latency']['p50_ms'], 2)} ms" in board

    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "Cost to run" in page and f"onnxruntime {onnxruntime.__version__}" in page
    assert f"p95 {floatformat(efficiency['latency']['p95_ms'], 2)} ms" in page
    assert "CPUExecutionProvider" in page
    assert f"task start to first batch {floatformat(submission.timings['to_first_batch'], 2)} s" in page

    chart = json.loads(re.search(r'id="cost-chart-data"[^>]*>(.*?)</script>', board).group(1))
    assert chart == [
        {
            "rank": 1,
            "name": "ResNet-8",
            "url": f"/submissions/{submission.pk}/",
            "value": 0.7548,
            "low": pytest.approx(0.7448),
            "high": pytest.approx(0.7648),
            "gmacs": efficiency["macs"] / 1e9,
            "throughput": efficiency["throughput"],
            "pareto_gmacs": True,  # alone on the board: nothing beats it
            "pareto_throughput": True,
        }
    ]

    row = client.get("/api/testsets/cifar10/leaderboard/").json()["rows"][0]
    assert row["efficiency"]["parameters"] == 77_706
    assert client.get(f"/api/submissions/{submission.pk}/").json()["efficiency"]["macs"] == efficiency["macs"]


def test_one_worker_per_gpu_pinned_to_it_and_one_cpu_worker_kept_off_the_gpus():
    specs = plan(["0", "1"], 2, "gpu", "cpu")
    assert [(s.name, s.queue, s.concurrency, s.env) for s in specs] == [
        ("gpu0", "gpu", 1, {"CUDA_VISIBLE_DEVICES": "0"}),
        ("gpu1", "gpu", 1, {"CUDA_VISIBLE_DEVICES": "1"}),
        ("cpu", "cpu", 2, {"CUDA_VISIBLE_DEVICES": ""}),
    ]
    assert command(specs[1], ["-l", "info"])[-8:] == ["-Q", "gpu", "-c", "1", "-n", "gpu1@%h", "-l", "info"]
    assert plan([], 0, "gpu", "cpu") == []
    # indices count within this process's own CUDA_VISIBLE_DEVICES: each worker is pinned to the device itself
    within = plan(["0", "1"], 0, "gpu", "cpu", visible="2,3")
    assert [spec.env["CUDA_VISIBLE_DEVICES"] for spec in within] == ["2", "3"]
    with pytest.raises(ValueError, match="GPU indices 0, 2 go beyond CUDA_VISIBLE_DEVICES=5,6"):
        plan(["0", "2"], 0, "gpu", "cpu", visible="5,6")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--gpus", "first"], "--gpus takes all, none or comma-separated GPU indices, not 'first'"),
        (["--gpus", "none", "--cpu-concurrency", "0"], "no workers to start"),
    ],
)
def test_the_workers_command_refuses_what_it_cannot_start(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("workers", *arguments)

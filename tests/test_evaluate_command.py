"""manage.py evaluate: the engine without the server, JSON out, a one-line reason and non-zero exit on failure."""

from __future__ import annotations

import json

from tests.conftest import run_python


def run_evaluate(data_dir, *args):
    return run_python("manage.py", "evaluate", *args, ZOOBOARD_DATA_DIR=str(data_dir))


def test_it_prints_every_label_sets_metrics_as_json(data_dir, model_path):
    done = run_evaluate(data_dir, "--model", model_path("resnet20"), "--testset", "cifar10", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    original = report["label_sets"]["original"]["metrics"]
    assert (original["top1"], original["top5"]) == (0.8103, 0.9872)
    assert set(report["label_sets"]) == {"original", "clean", "plausible", "human"}
    assert report["label_sets"]["clean"]["counts"]["errors"] == 54
    assert report["preprocessing"]["mean"] == [0.485, 0.456, 0.406]
    assert report["testset"] == {"name": "cifar10", "version": 1, "examples": 10_000}
    assert report["provider"] == "CPUExecutionProvider"


def test_preprocessing_flags_override_the_models_own(data_dir, model_path):
    # ResNet-8 wants 0-255 input; feeding it 0-1 values must change (and ruin) its accuracy
    done = run_evaluate(
        data_dir, "--model", model_path("resnet8"), "--testset", "cifar10", "--json", "--value-range", "1"
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["preprocessing"]["value_range"] == 1.0
    assert report["label_sets"]["original"]["metrics"]["top1"] < 0.5


def test_a_file_that_is_not_onnx_exits_non_zero_with_one_line(data_dir, onnx_test_models):
    done = run_evaluate(data_dir, "--model", onnx_test_models["not_onnx"], "--testset", "cifar10", "--json")
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr == "cannot evaluate: the file is not an ONNX model: it could not be parsed as an ONNX protobuf\n"


def test_a_test_set_not_imported_exits_non_zero(data_dir, model_path):
    done = run_evaluate(data_dir, "--model", model_path("resnet20"), "--testset", "imagenet")
    assert done.returncode != 0
    assert "test set 'imagenet' is not imported; run manage.py import_testset imagenet" in done.stderr

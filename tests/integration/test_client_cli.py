"""The command-line client against gunicorn and a real worker: submit, wait, read the leaderboard."""

from __future__ import annotations

import json

import pytest

from leaderboard.models import ApiToken
from tests.conftest import run_python

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def zooboard(site, alice):
    """zooboard(*args) runs `python -m client` as alice against the live site."""
    _, token = ApiToken.objects.create(user=alice, name="client tests")

    def run(*args):
        # a terminal as wide as a typical one: rich wraps table cells to 80 columns when not told
        return run_python("-m", "client", *args, ZOOBOARD_URL=site.url, ZOOBOARD_TOKEN=token, COLUMNS="200")

    return run


def test_it_submits_waits_and_shows_the_result(cifar10, zooboard, model_path):
    done = zooboard("--json", "submit", model_path("resnet8"), "--testset", "cifar10", "--wait")
    assert done.returncode == 0, done.stderr
    submission = json.loads(done.stdout)
    assert submission["status"] == "done"
    assert round(submission["results"][0]["metrics"]["top1"] * 100, 1) == 75.5
    board = zooboard("leaderboard", "cifar10")
    assert board.returncode == 0
    assert "ResNet-8 (MLPerf Tiny)" in board.stdout and "75.48%" in board.stdout
    assert "ECE (15 bins)" in board.stdout and "0.08 M" in board.stdout  # columns and cost from the API

    status = zooboard("status", str(submission["id"]))
    assert status.returncode == 0
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in status.stdout.splitlines() if "│" in line]
    original = next(result for result in submission["results"] if result["label_set"] == "original")
    assert ["nll", f"{original['metrics']['nll']:.4f}"] in rows  # a loss, as a plain number
    assert ["top1", "75.48%"] in rows
    assert ["GMACs per image", f"{submission['efficiency']['macs'] / 1e9:.3f}"] in rows
    assert any(row[0] == "ran on" and "CPUExecutionProvider" in row[1] for row in rows)


def test_a_refused_model_prints_the_servers_sentence(cifar10, zooboard, onnx_test_models):
    done = zooboard("submit", onnx_test_models["not_onnx"], "--testset", "cifar10", "--name", "x")
    assert done.returncode == 1
    assert done.stderr.strip() == "zooboard: the file is not an ONNX model: it could not be parsed as an ONNX protobuf"


def test_a_model_failing_at_run_time_exits_non_zero_with_the_reason(cifar10, zooboard, onnx_test_models):
    done = zooboard("submit", onnx_test_models["nan_output"], "--testset", "cifar10", "--name", "NaN", "--wait")
    assert done.returncode == 1
    assert "failed" in done.stdout and "the model's output contains NaN or infinite values" in done.stdout


def test_preprocessing_flags_reach_the_recipe(cifar10, zooboard, model_path):
    done = zooboard(
        "--json",
        "submit",
        model_path("resnet20"),
        "--testset",
        "cifar10",
        "--interpolation",
        "bicubic",
        "--mean",
        "0.5",
        "0.5",
        "0.5",
    )
    assert done.returncode == 0, done.stderr
    recipe = json.loads(done.stdout)["preprocessing"]
    assert recipe["interpolation"] == "bicubic" and recipe["mean"] == [0.5, 0.5, 0.5]

"""The command-line client against gunicorn and a real worker: submit, wait, read the leaderboard."""

from __future__ import annotations

import json

import pytest
from rest_framework.authtoken.models import Token

from tests.conftest import run_python

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def zooboard(site, alice):
    """zooboard(*args) runs `python -m client` as alice against the live site."""
    token = Token.objects.create(user=alice).key

    def run(*args):
        return run_python("-m", "client", *args, ZOOBOARD_URL=site.url, ZOOBOARD_TOKEN=token)

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

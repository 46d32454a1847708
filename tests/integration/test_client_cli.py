"""The command-line client against gunicorn and a real worker: submit, wait, read the leaderboard."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from leaderboard.models import ApiToken, Submission
from tests import independent
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
    card = ["--description", "MLPerf Tiny's ResNet-8", "--paper-url", "https://arxiv.org/abs/2106.07597"]
    card += ["--code-url", "https://github.com/mlcommons/tiny", "--licence", "Apache-2.0", "--architecture", "resnet"]
    done = zooboard("--json", "submit", model_path("resnet8"), "--testset", "cifar10", *card, "--wait")
    assert done.returncode == 0, done.stderr
    submission = json.loads(done.stdout)
    assert submission["status"] == "done"
    assert [submission[key] for key in ("description", "paper_url", "code_url", "licence", "architecture")] == [
        card[index] for index in range(1, len(card), 2)
    ]
    assert round(submission["results"][0]["metrics"]["top1"] * 100, 1) == 75.5
    board = zooboard("leaderboard", "cifar10")
    assert board.returncode == 0
    assert "ResNet-8 (MLPerf Tiny)" in board.stdout and "75.48%" in board.stdout
    assert "ECE (15 bins)" in board.stdout and "0.08 M" in board.stdout  # columns and cost from the API

    status = zooboard("status", str(submission["id"]))
    assert status.returncode == 0
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in status.stdout.splitlines() if "│" in line]
    original = next(result for result in submission["results"] if result["label_set"] == "original")
    assert ["nll", f"{original['metrics']['nll']:.4f}"] in [row[:2] for row in rows]  # a loss, as a plain number
    assert ["top1", "75.48%"] in [row[:2] for row in rows]
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


def test_what_names_nothing_exits_2_with_the_servers_sentence(cifar10, zooboard, model_path):
    unknown_board = zooboard("leaderboard", "cifar100")
    assert unknown_board.returncode == 2 and "cifar100" in unknown_board.stderr
    unknown_label_set = zooboard("leaderboard", "cifar10", "--label-set", "relabelled")
    assert unknown_label_set.returncode == 2
    assert "cifar10 has no label set named 'relabelled'" in unknown_label_set.stderr
    unknown_testset = zooboard("submit", model_path("resnet8"), "--testset", "cifar100")
    assert unknown_testset.returncode == 2 and "cifar100" in unknown_testset.stderr
    assert Submission.objects.count() == 0  # nothing was uploaded
    unknown_submission = zooboard("status", "999999")
    assert unknown_submission.returncode == 2


def test_public_reads_need_no_token_and_survive_a_refused_one(cifar10, site):
    guest = run_python("-m", "client", "leaderboard", "cifar10", ZOOBOARD_URL=site.url, COLUMNS="200")
    assert guest.returncode == 0 and "cifar10 (original labels, v1)" in guest.stdout
    revoked = run_python(
        "-m", "client", "leaderboard", "cifar10", ZOOBOARD_URL=site.url, ZOOBOARD_TOKEN="not-a-token", COLUMNS="200"
    )
    assert revoked.returncode == 0 and "cifar10 (original labels, v1)" in revoked.stdout
    assert "zooboard: the token was refused" in revoked.stderr and "reading as a guest" in revoked.stderr


def test_waiting_into_a_pipe_prints_progress_and_results_export_as_csv(cifar10, zooboard, model_path):
    done = zooboard("--json", "submit", model_path("resnet8"), "--testset", "cifar10", "--wait")
    assert done.returncode == 0, done.stderr
    submission = json.loads(done.stdout)
    lines = done.stderr.splitlines()  # stderr is a pipe here, not a terminal
    assert lines[0] == f"submission {submission['id']} queued: {submission['name']}"
    assert any(line.startswith(f"submission {submission['id']}: running ") for line in lines)
    assert lines[-1] == f"submission {submission['id']}: done"

    exported = zooboard("results", str(submission["id"]), "--format", "csv")
    assert exported.returncode == 0
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    for result in submission["results"]:
        for metric, value in result["metrics"].items():
            row = next(r for r in rows if (r["label_set"], r["metric"]) == (result["label_set"], metric))
            assert float(row["value"]) == value
            low_high = result["intervals"].get(metric)
            if low_high:
                assert [float(row["low"]), float(row["high"])] == low_high


def test_a_timm_model_with_its_own_weights_submits_and_scores_as_torch_runs_it(cifar10, zooboard, tmp_path):
    """timm:resnet18 with the submitter's safetensors weights (made here; nothing is downloaded), checked against
    the model run by torch on the raw JPEGs, not against anything the server stored."""
    import timm
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(3)
    model = timm.create_model("resnet18", pretrained=False, num_classes=10).eval()
    weights = tmp_path / "resnet18.safetensors"
    save_file({key: value.contiguous() for key, value in model.state_dict().items()}, str(weights))
    flags = ("--input-size", "32", "--crop-pct", "1.0", "--interpolation", "bilinear")
    done = zooboard("--json", "submit", "timm:resnet18", "--weights", weights, "--testset", "cifar10", *flags, "--wait")
    assert done.returncode == 0, done.stderr
    submission = json.loads(done.stdout)
    assert submission["status"] == "done", submission["error_message"]

    images, labels = independent.cifar10_images_and_labels()  # 32 px already: the recipe resizes nothing
    recipe = submission["preprocessing"]
    x = (images.astype(np.float64) / 255.0 - np.array(recipe["mean"])) / np.array(recipe["std"])
    with torch.no_grad():
        scores = torch.cat(
            [
                model(torch.from_numpy(x[i : i + 500].transpose(0, 3, 1, 2).astype(np.float32)))
                for i in range(0, len(x), 500)
            ]
        )
    expected = independent.top_k_accuracy_loop(scores.numpy(), labels, 1)
    original = next(r for r in submission["results"] if r["label_set"] == "original")
    assert original["metrics"]["top1"] == pytest.approx(expected, abs=2e-4)  # at most 2 of 10,000 argmax ties

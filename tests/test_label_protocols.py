"""Every protocol and metric on real predictions (the bundled ResNets on the real CIFAR-10 test set) against
a plainly written per-example loop, reading the raw annotation files directly."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from evaluator.engine.scoring import score_all
from plugins.testset import TestSetManifest
from tests import independent
from tests.conftest import BUNDLED
from tests.helpers import categories

MODELS = ["resnet20", "resnet8"]


@pytest.fixture(scope="module")
def raw():
    """The annotations as published, read without any of our code."""
    votes = json.loads((BUNDLED / "cleanlab-label-errors/cifar10/cifar10_mturk.json").read_text())
    counts = np.load(BUNDLED / "cifar-10h/cifar10h-counts.npy")
    with open(BUNDLED / "cifar10-test/cifar10_test_index.csv") as handle:
        labels = [int(line.split(",")[1]) for line in handle.readlines()[1:]]
    return {"votes": votes, "counts": counts.tolist(), "labels": labels}


@pytest.fixture(scope="module")
def scored(real_predictions, cifar10_root):
    manifest = TestSetManifest.load(cifar10_root)
    return {name: score_all(real_predictions(name), cifar10_root, manifest) for name in MODELS}


def test_cifar10_label_errors_fall_into_the_papers_categories(scored, raw):
    counts = scored["resnet20"]["clean"]["counts"]
    assert counts["errors"] == 54
    assert (counts["correctable"], counts["multi-label"], counts["neither"], counts["non-agreement"]) == (18, 0, 4, 32)
    by_category = {}
    for category, _ in categories(raw["votes"]).values():
        by_category[category] = by_category.get(category, 0) + 1
    assert by_category == {"correctable": 18, "neither": 4, "non-agreement": 32}


@pytest.mark.parametrize("model", MODELS)
def test_clean_accuracy_matches_a_loop(model, scored, raw, real_predictions):
    predicted = real_predictions(model).top_classes[:, 0].tolist()
    found = categories(raw["votes"])
    hits = total = correctable_original = correctable_corrected = correctable = 0
    for index, label in enumerate(raw["labels"]):
        category, other = found.get(index, ("clean", None))
        if category in ("neither", "non-agreement"):
            continue
        total += 1
        if category == "correctable":
            correctable += 1
            correctable_original += predicted[index] == label
            correctable_corrected += predicted[index] == other
            hits += predicted[index] == other
        else:
            hits += predicted[index] == label or (category == "multi-label" and predicted[index] == other)
    metrics = scored[model]["clean"]["metrics"]
    assert metrics["top1"] == pytest.approx(hits / total)
    assert metrics["correctable_top1_original"] == pytest.approx(correctable_original / correctable)
    assert metrics["correctable_top1_corrected"] == pytest.approx(correctable_corrected / correctable)
    assert scored[model]["clean"]["counts"]["scored"] == total == 10_000 - 36


@pytest.mark.parametrize("model", MODELS)
def test_plausible_label_accuracy_matches_a_loop(model, scored, raw, real_predictions):
    top = real_predictions(model).top_classes.tolist()
    top1 = top5 = multi = 0
    for row, votes in zip(top, raw["counts"], strict=True):
        plausible = {c for c, n in enumerate(votes) if n / sum(votes) >= 0.10}
        top1 += row[0] in plausible
        top5 += any(c in plausible for c in row[:5])
        multi += len(plausible) > 1
    metrics = scored[model]["plausible"]["metrics"]
    assert metrics["top1"] == pytest.approx(top1 / 10_000)
    assert metrics["top5"] == pytest.approx(top5 / 10_000)
    assert metrics["multi_label_share"] == pytest.approx(multi / 10_000)


@pytest.mark.parametrize("model", MODELS)
def test_human_agreement_and_cross_entropy_match_the_models_own_outputs(model, scored, raw, model_outputs):
    """From the model's outputs in float64, one image at a time: the stored predictions play no part."""
    outputs, kind = model_outputs(model)
    agreement = entropy = 0.0
    for log_probs, votes in zip(independent.log_probabilities(outputs, kind).tolist(), raw["counts"], strict=True):
        total = sum(votes)
        agreement += votes[max(range(10), key=lambda c: log_probs[c])] / total
        entropy -= sum(n / total * log_p for n, log_p in zip(votes, log_probs, strict=True))
    metrics = scored[model]["human"]["metrics"]
    assert metrics["human_agreement"] == pytest.approx(agreement / 10_000, abs=1e-12)
    assert metrics["cross_entropy"] == pytest.approx(entropy / 10_000, abs=1e-4)
    low, high = scored[model]["human"]["intervals"]["human_agreement"]
    assert low < metrics["human_agreement"] < high


@pytest.mark.parametrize("model", MODELS)
def test_calibration_and_losses_match_the_models_own_outputs(model, scored, raw, model_outputs):
    """ECE, NLL and the Brier score to 1e-4 of a float64 computation from the model's own outputs."""
    outputs, kind = model_outputs(model)
    bins = [[0, 0.0, 0] for _ in range(15)]  # count, confidence sum, correct
    nll = brier = 0.0
    for label, log_probs in zip(raw["labels"], independent.log_probabilities(outputs, kind).tolist(), strict=True):
        probs = [math.exp(value) for value in log_probs]
        predicted = max(range(10), key=lambda c: probs[c])
        confidence = probs[predicted]
        b = min(max(math.ceil(confidence * 15) - 1, 0), 14)
        bins[b][0] += 1
        bins[b][1] += confidence
        bins[b][2] += predicted == label
        nll -= log_probs[label]
        brier += sum((p - (c == label)) ** 2 for c, p in enumerate(probs))
    ece = sum(abs(correct - confidence_sum) for _, confidence_sum, correct in bins) / 10_000
    metrics = scored[model]["original"]["metrics"]
    assert metrics["ece"] == pytest.approx(ece, abs=1e-4)
    assert metrics["nll"] == pytest.approx(nll / 10_000, abs=1e-4)
    assert metrics["brier"] == pytest.approx(brier / 10_000, abs=1e-4)
    # the clean labels' losses too: the corrected label of a correctable image is often outside its top k
    found = categories(raw["votes"])
    clean_nll, kept = 0.0, 0
    for index, (label, log_probs) in enumerate(
        zip(raw["labels"], independent.log_probabilities(outputs, kind).tolist(), strict=True)
    ):
        category, other = found.get(index, ("clean", None))
        if category in ("neither", "non-agreement"):
            continue
        kept += 1
        clean_nll -= log_probs[other if category == "correctable" else label]
    assert scored[model]["clean"]["metrics"]["nll"] == pytest.approx(clean_nll / kept, abs=1e-4)


def test_accuracy_intervals_are_wilsons(scored):
    top1 = scored["resnet20"]["original"]["metrics"]["top1"]
    n, z = 10_000, 1.959963984540054
    centre = (top1 + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(top1 * (1 - top1) / n + z * z / (4 * n * n))
    assert scored["resnet20"]["original"]["intervals"]["top1"] == pytest.approx([centre - half, centre + half])


def test_slices_cover_what_they_claim(scored):
    slices = scored["resnet20"]["original"]["slices"]
    assert {name: s["count"] for name, s in slices["superclass"].items()} == {"vehicles": 4000, "animals": 6000}
    assert slices["label_status"]["correctable"]["count"] == 18
    assert slices["label_status"]["dropped"]["count"] == 36
    assert slices["label_multiplicity"]["multi-label"]["count"] == 896
    assert sum(s["count"] for s in slices["class"].values()) == 10_000


def test_the_worst_slice_summary_ignores_slices_too_small_to_show(scored):
    summaries = scored["resnet20"]["original"]["summaries"]
    assert summaries["label_status"]["worst_slice"] != "correctable"  # 18 images: below the minimum of 25
    assert (
        summaries["class"]["worst_slice"]
        == min(scored["resnet20"]["original"]["slices"]["class"].items(), key=lambda item: item[1]["metrics"]["top1"])[
            0
        ]
    )


def test_wilson_intervals_agree_with_scipy():
    from scipy import stats

    from plugins.metrics.intervals import wilson_intervals

    successes, totals = np.array([0, 7, 8103, 18]), np.array([5, 18, 10_000, 18])
    low, high = wilson_intervals(successes, totals)
    for index, (k, n) in enumerate(zip(successes, totals, strict=True)):
        expected = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=0.95, method="wilson")
        assert (low[index], high[index]) == pytest.approx((expected.low, expected.high))


@pytest.mark.parametrize("model", MODELS)
def test_the_label_noise_curve_matches_a_loop(model, scored, raw, real_predictions):
    """Keep every correctable example and the first n correctly labeled ones of a fixed shuffle."""
    predicted = real_predictions(model).top_classes[:, 0].tolist()
    found = categories(raw["votes"])
    correctable = [i for i, (category, _) in found.items() if category == "correctable"]
    clean = [i for i in range(10_000) if i not in found]
    shuffled = [clean[j] for j in np.random.default_rng(0).permutation(len(clean))]
    curve = scored[model]["clean"]["curves"]["noise"]
    assert curve[0][0] == pytest.approx(18 / (18 + len(clean)), abs=1e-4)
    for prevalence, accuracy in curve[1:]:
        kept = shuffled[: round(18 * (1 - prevalence) / prevalence)]
        hits = sum(predicted[i] == found[i][1] for i in correctable) + sum(
            predicted[i] == raw["labels"][i] for i in kept
        )
        assert accuracy == pytest.approx(hits / (18 + len(kept)))


def test_curves_cross_where_the_follower_catches_up():
    from plugins.metrics.noise_curve import crossing

    leader = [[0.01, 0.90], [0.05, 0.85], [0.10, 0.80]]
    assert crossing(leader, [[0.01, 0.88], [0.05, 0.86], [0.10, 0.85]]) == 0.05
    assert crossing(leader, [[0.01, 0.88], [0.05, 0.84], [0.10, 0.79]]) is None


def test_a_registered_metric_is_reported_under_single_label_protocols(real_predictions, cifar10_root, monkeypatch):
    from plugins import registry

    monkeypatch.setitem(registry._entries, "metric", dict(registry._entries["metric"]))
    registry.register("metric", "error_rate")(
        lambda predictions, target: 1 - (predictions.top_classes[:, 0] == target).mean()
    )
    scores = score_all(real_predictions("resnet20"), cifar10_root, TestSetManifest.load(cifar10_root))
    assert scores["original"]["metrics"]["error_rate"] == pytest.approx(1 - scores["original"]["metrics"]["top1"])
    assert scores["clean"]["metrics"]["error_rate"] == pytest.approx(1 - scores["clean"]["metrics"]["top1"], abs=2e-3)

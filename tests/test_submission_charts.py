"""The submission page's charts: the aggregates they draw (confusions counted here one pair at a time), what the
page hands the charts, and the small-slice rule on every bin, row and bar."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from leaderboard.models import Result, Status, Submission
from plugins.metrics.calibration import expected_calibration_error, reliability_bins
from plugins.metrics.confusion import TOP_CONFUSIONS, confusion


def test_the_top_confusions_of_a_large_test_set_are_the_largest_off_diagonal_pairs():
    rng = np.random.default_rng(3)
    targets = rng.integers(0, 150, 20_000)
    predicted = np.where(rng.random(20_000) < 0.7, targets, rng.integers(0, 150, 20_000))
    predicted[:300] = (targets[:300] + 1) % 150  # a few pairs far above the rest
    found = confusion(targets, predicted, 150)
    assert "matrix" not in found
    pairs = Counter((int(t), int(p)) for t, p in zip(targets, predicted, strict=True) if t != p)
    largest = sorted(pairs.items(), key=lambda item: (-item[1], item[0]))[:TOP_CONFUSIONS]
    assert [(c["true"], c["predicted"], c["count"]) for c in found["top"]] == [(t, p, n) for (t, p), n in largest]
    sizes = Counter(int(t) for t in targets)
    assert all(c["true_count"] == sizes[c["true"]] for c in found["top"])


def test_the_reliability_bins_are_the_eces_bins():
    rng = np.random.default_rng(4)
    confidence = rng.random(5000)
    correct = rng.random(5000) < confidence
    bins = reliability_bins(confidence, correct)
    assert len(bins) == 15 and sum(item["count"] for item in bins) == 5000
    ece = sum(item["count"] * abs(item["accuracy"] - item["confidence"]) for item in bins if item["count"]) / 5000
    assert ece == pytest.approx(expected_calibration_error(confidence, correct), abs=1e-12)
    for index, item in enumerate(bins):  # each bin holds (index/15, (index+1)/15]
        assert (item["low"], item["high"]) == (round(index / 15, 4), round((index + 1) / 15, 4))
        inside = (confidence > index / 15) & (confidence <= (index + 1) / 15)
        assert item["count"] == int(inside.sum())
        assert item["accuracy"] == pytest.approx(correct[inside].mean())


@pytest.fixture
def charted(db, cifar10, alice):
    """A done submission whose result has one bin and one class under the small-slice limit (25 images)."""
    submission = Submission.objects.create(owner=alice, testset=cifar10, name="Charted", preprocessing={})
    submission.move_to(Status.RUNNING)
    submission.move_to(Status.SCORING)
    bins = [{"low": i, "high": i + 1, "count": 0, "confidence": None, "accuracy": None} for i in range(15)]
    bins[13].update(count=9, confidence=0.9, accuracy=0.5)  # 9 images: staff only
    bins[14].update(count=9991, confidence=0.98, accuracy=0.81)
    matrix = [[0] * 10 for _ in range(10)]
    for i in range(10):
        matrix[i][i] = 900 if i else 10  # class 0: 10 images only
        matrix[i][(i + 1) % 10] = 100 if i else 0
    score = {
        **{"version": 1, "protocol": "original", "headline": "top1", "metrics": {"top1": 0.81, "top5": 0.98}},
        **{"intervals": {"top1": [0.80, 0.82]}, "counts": {"scored": 10_000}, "summaries": {}, "curves": {}},
        **{"correct": None, "per_example": None},
        "charts": {"reliability": bins, "confusion": {"matrix": matrix, "true_counts": [sum(r) for r in matrix]}},
        "slices": {
            "class": {
                "cat": {
                    "count": 1000,
                    "counts": {"scored": 1000},
                    "metrics": {"top1": 0.7},
                    "intervals": {"top1": [0.67, 0.73]},
                },
                "tiny": {
                    "count": 10,
                    "counts": {"scored": 10},
                    "metrics": {"top1": 0.9},
                    "intervals": {"top1": [0.6, 0.98]},
                },
            }
        },
    }
    Result.objects.store(submission, {"original": score})
    submission.move_to(Status.DONE)
    return submission


def chart_data(client, submission) -> dict:
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert 'data-chart="reliability"' in page and 'data-chart="confusion"' in page and 'data-slicer="class"' in page
    text = page.split('<script id="chart-data-original" type="application/json">', 1)[1].split("</script>", 1)[0]
    return json.loads(text)


def test_the_page_hands_the_charts_what_the_reader_may_see(charted, client, staff):
    data = chart_data(client, charted)
    assert data["headline"] == {
        "metric": "top1",
        "title": "Top-1",
        "value": 0.81,
        "low": 0.8,
        "high": 0.82,
        "loss": False,
    }
    assert data["slicers"]["class"] == [{"name": "cat", "count": 1000, "value": 0.7, "low": 0.67, "high": 0.73}]
    small, big = data["reliability"][13], data["reliability"][14]
    assert (small["count"], small["accuracy"], small["confidence"]) == (9, None, None) and "staff only" in small[
        "withheld"
    ]
    assert (big["accuracy"], big["confidence"]) == (0.81, 0.98)
    assert data["confusion"]["matrix"][0] is None and data["confusion"]["matrix"][1][1] == 900
    assert data["class_names"][:2] == ["airplane", "automobile"]

    client.force_login(staff)
    data = chart_data(client, charted)
    assert data["reliability"][13]["accuracy"] == 0.5 and data["confusion"]["matrix"][0][0] == 10
    assert [item["name"] for item in data["slicers"]["class"]] == ["cat", "tiny"]


def undominated(points: list[tuple], cost_lower: bool, value_lower: bool) -> set[tuple]:
    """The distinct points no other point beats or equals on both (one pair at a time)."""

    def at_least_as_good(a, b, lower):
        return a <= b if lower else a >= b

    complete = [point for point in points if None not in point]
    return {
        (c, v)
        for c, v in complete
        if not any(
            at_least_as_good(oc, c, cost_lower) and at_least_as_good(ov, v, value_lower) and (oc, ov) != (c, v)
            for oc, ov in complete
        )
    }


@pytest.mark.parametrize(("cost_lower", "value_lower"), [(True, False), (False, False), (True, True)])
def test_the_pareto_front_is_the_undominated_points(cost_lower, value_lower):
    from leaderboard.charts import pareto_front

    rng = np.random.default_rng(6)
    points = [(float(c), float(v)) for c, v in zip(rng.integers(1, 30, 60), rng.integers(50, 90, 60), strict=True)]
    points += [(None, 0.7), (5.0, None)]
    found = pareto_front(points, cost_lower_is_better=cost_lower, lower_is_better=value_lower)
    # equal points: one of them is marked; the sets of distinct points on the front are the same
    assert {points[i] for i, on in enumerate(found) if on} == undominated(points, cost_lower, value_lower)


def test_the_board_hands_its_charts_the_front_and_the_label_noise_points(cifar10, alice, client):
    for name, original, clean, macs in (
        ("Cheap", 0.70, 0.72, 1e8),
        ("Dear", 0.90, 0.88, 1e10),
        ("Waste", 0.6, 0.6, 5e9),
    ):
        submission = Submission.objects.create(
            owner=alice, testset=cifar10, name=name, preprocessing={}, efficiency={"macs": macs, "throughput": 100}
        )
        submission.move_to(Status.RUNNING)
        submission.move_to(Status.SCORING)
        scores = {}
        for label_set, value in (("original", original), ("clean", clean)):
            scores[label_set] = {
                **{"version": 1, "protocol": label_set, "headline": "top1", "metrics": {"top1": value, "top5": 1.0}},
                **{"intervals": {}, "counts": {"scored": 10_000}, "summaries": {}, "curves": {}},
                **{"correct": None, "per_example": None, "slices": {}},
            }
        Result.objects.store(submission, scores)
        submission.move_to(Status.DONE)
    page = client.get("/testsets/cifar10/").content.decode()
    cost = json.loads(page.split('<script id="cost-chart-data" type="application/json">', 1)[1].split("</script>")[0])
    assert {point["name"]: point["pareto_gmacs"] for point in cost} == {"Cheap": True, "Dear": True, "Waste": False}
    noise = json.loads(page.split('<script id="noise-chart-data" type="application/json">', 1)[1].split("</script>")[0])
    assert {(p["name"], p["original"], p["clean"]) for p in noise} == {
        ("Cheap", 0.70, 0.72),
        ("Dear", 0.90, 0.88),
        ("Waste", 0.6, 0.6),
    }


def test_the_clean_board_draws_the_label_noise_curves_and_where_they_cross(
    cifar10, alice, client, real_predictions, cifar10_root
):
    """ResNet20 and ResNet56, scored from their real predictions: the clean board hands the chart both curves and
    the share at which the one behind first reaches the one ahead, where the board's own note says."""
    from evaluator.engine.scoring import score_all
    from plugins.testset import TestSetManifest

    for name in ("resnet20", "resnet56"):
        submission = Submission.objects.create(owner=alice, testset=cifar10, name=name, preprocessing={})
        submission.move_to(Status.RUNNING)
        submission.move_to(Status.SCORING)
        scores = score_all(real_predictions(name), cifar10_root, TestSetManifest.load(cifar10_root))
        Result.objects.store(submission, scores)
        submission.move_to(Status.DONE)
    page = client.get("/testsets/cifar10/", {"label_set": "clean"}).content.decode()
    data = json.loads(page.split('<script id="curves-chart-data" type="application/json">', 1)[1].split("</script>")[0])
    ahead, behind = data["lines"]
    assert (ahead["rank"], behind["rank"]) == (1, 2)
    [crossed] = data["crossings"]
    shares = [share for share, _ in ahead["curve"]]
    at = shares.index(crossed["share"])
    # before the crossing the one ahead stays ahead; at it, the one behind has caught up
    assert all(b[1] < a[1] for a, b in zip(ahead["curve"][:at], behind["curve"][:at], strict=True))
    assert behind["curve"][at][1] >= ahead["curve"][at][1] and crossed["accuracy"] == behind["curve"][at][1]
    assert f"once {crossed['share'] * 100:.2f}% of the test set is originally mislabeled" in page
    assert 'id="curves-chart"' not in client.get("/testsets/cifar10/").content.decode()  # no curves there

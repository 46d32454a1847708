"""The small-slice rule on real stored results (ResNet20's and ResNet-8's predictions on CIFAR-10): figures over
fewer than ZOOBOARD_MIN_SLICE images, and the slices that would give them away, are for staff only."""

from __future__ import annotations

import re

import numpy as np
import pytest

from leaderboard.disclosure import slice_examples
from leaderboard.models import SliceResult
from tests.helpers import evaluated, raw_truth, values_per_label_set

MINIMUM = 25
NOTE = "fewer than 25 images: shown to staff only"
STATUS_SLICES = {"clean": ("clean",), "correctable": ("correctable",), "multi-label": ("multi-label",)}
STATUS_SLICES["dropped"] = ("neither", "non-agreement")


def slice_masks(truth) -> dict[str, dict[str, np.ndarray]]:
    """The slicers whose slices are disjoint, rebuilt from the raw files."""
    labels, status = truth["labels"], truth["status"]
    plausible = (truth["votes"] / truth["votes"].sum(axis=1, keepdims=True) >= 0.10).sum(axis=1)
    return {
        "class": {name: labels == index for index, name in enumerate(truth["names"])},
        "label_status": {name: np.isin(status, members) for name, members in STATUS_SLICES.items()},
        "label_multiplicity": {
            "single-label": plausible == 1,
            "multi-label": plausible > 1,
            "no plausible label": plausible == 0,
        },
    }


@pytest.fixture
def board(cifar10, alice, real_predictions, cifar10_root):
    """ResNet20 and ResNet-8 done on CIFAR-10, scored under every label set from their real predictions."""
    return {
        name: evaluated(cifar10, alice, name, real_predictions(name), cifar10_root) for name in ("resnet20", "resnet8")
    }


@pytest.fixture(scope="module")
def truth():
    return raw_truth()


def correctable_figures(truth, predictions) -> dict[str, float]:
    """top1 on the 18 correctable images under their original and corrected labels, by a plain loop."""
    top1, hits = predictions.top_classes[:, 0].tolist(), {"original": 0, "corrected": 0}
    correctable = [i for i, category in enumerate(truth["status"]) if category == "correctable"]
    for index in correctable:
        hits["original"] += top1[index] == truth["labels"][index]
        hits["corrected"] += top1[index] == truth["guessed"][index]
    assert len(correctable) == 18
    return {f"correctable_top1_{name}": count / len(correctable) for name, count in hits.items()}


def results_by_label_set(body) -> dict[str, dict]:
    return {result["label_set"]: result for result in body["results"]}


def test_the_18_image_figures_are_for_staff_only_in_the_api(board, client, staff, truth, real_predictions):
    expected = correctable_figures(truth, real_predictions("resnet20"))
    url = f"/api/submissions/{board['resnet20'].pk}/"
    anonymous = client.get(url)
    clean = results_by_label_set(anonymous.json())["clean"]
    for name in expected:
        assert name not in clean["metrics"] and name not in clean["intervals"]
        assert clean["staff_only"]["metrics"][name] == NOTE
    client.force_login(staff)
    clean = results_by_label_set(client.get(url).json())["clean"]
    assert {name: clean["metrics"][name] for name in expected} == pytest.approx(expected)


def metric_cells(page: str, label_set: str, names) -> dict[str, str]:
    """The submission page's cell for each metric of a label set (its value, or why it is withheld)."""
    cells = {}
    for name in names:
        found = re.search(rf'class="[a-z ]*metric-{label_set}-{name}"[^>]*>([^<]*)<', page)
        cells[name] = found.group(1) if found else None
    return cells


def test_the_18_image_figures_are_for_staff_only_on_the_submission_page(board, client, staff, truth, real_predictions):
    """By cell: 8 of 18 is also 16 of 36, the dropped images' (public) share, so the text alone cannot tell."""
    expected = correctable_figures(truth, real_predictions("resnet20"))
    url = f"/submissions/{board['resnet20'].pk}/"
    assert metric_cells(client.get(url).content.decode(), "clean", expected) == dict.fromkeys(expected, NOTE)
    client.force_login(staff)
    cells = metric_cells(client.get(url).content.decode(), "clean", expected)
    assert cells == {name: f"{value * 100:.2f}%" for name, value in expected.items()}


def test_the_18_image_columns_are_for_staff_only_on_the_leaderboard(board, client, staff, truth, real_predictions):
    expected = {name: correctable_figures(truth, real_predictions(name)) for name in board}
    page = client.get("/testsets/cifar10/?label_set=clean").content.decode()
    api = client.get("/api/testsets/cifar10/leaderboard/?label_set=clean").json()
    assert 'class="num correctable_top1_' not in page and ">Correctable, as given</a></th>" not in page
    assert f"Correctable, as given: {NOTE}." in page and f"Correctable, corrected: {NOTE}." in page
    assert [column["metric"] for column in api["staff_only_columns"]] == list(expected["resnet20"])
    assert all(name not in row["metrics"] for row in api["rows"] for name in expected["resnet20"])
    beside = client.get("/api/testsets/cifar10/leaderboard/").json()["rows"][0]["beside"]["clean"]
    assert "top1" in beside and not set(expected["resnet20"]) & set(beside)
    client.force_login(staff)
    page = client.get("/testsets/cifar10/?label_set=clean").content.decode()
    cell = r'class="num (correctable_top1_\w+)(?: extra)? staff-only"[^>]*><span class="value">([^<]*)<'
    cells = re.findall(cell, page)
    assert sorted(cells) == sorted(
        (name, f"{value * 100:.2f}%") for figures in expected.values() for name, value in figures.items()
    )
    rows = client.get("/api/testsets/cifar10/leaderboard/?label_set=clean").json()["rows"]
    by_name = {row["name"]: row["metrics"] for row in rows}
    shown = {(name, key): by_name[name][key] for name, figures in expected.items() for key in figures}
    assert shown == pytest.approx({(name, key): v for name, figures in expected.items() for key, v in figures.items()})


def test_the_noise_curve_records_the_fewest_examples_it_says_something_about(board, truth):
    """Every point keeps the 18 correctable images; the fewest correctly labeled ones kept are at 30%."""
    clean = board["resnet20"].results.get(label_set__name="clean")
    correctable = int((truth["status"] == "correctable").sum())
    kept = round(correctable * (1 - 0.30) / 0.30)
    assert clean.counts["curves.noise"] == correctable + kept == 60
    assert clean.counts["correctable_top1_original"] == clean.counts["correctable_top1_corrected"] == 18


def published(results: dict, truth, masks, values, size_only: bool) -> tuple[list, list]:
    """What a reader has: totals (set, scoring, name) and visible slices (slicer, name, set, scoring); size_only:
    as if only slices of fewer than MINIMUM images were withheld."""
    totals, slices = [], []
    for label_set, result in results.items():
        scored = ~np.isnan(values[label_set]).any(axis=1)
        totals.append((scored, label_set, f"{label_set} {result['headline_metric']}"))
        for item in result["slices"]:
            examples = masks.get(item["slicer"], {}).get(item["name"], np.zeros(len(scored), bool)) & scored
            if item["metrics"].get(result["headline_metric"]) is not None and (
                not size_only or examples.sum() >= MINIMUM
            ):
                slices.append((item["slicer"], item["name"], examples, label_set))
    if "noise" in results["clean"]["curves"]:  # its first point: every correctable and correctly labeled image
        first = np.isin(truth["status"], ("clean", "correctable"))
        totals.append((first, "clean", "the clean noise curve's first point"))
    return totals, slices


def give_aways(results: dict, truth, size_only: bool = False) -> list[str]:
    """Every total from which a slicer's visible slices, scored alike, take all but 1 to 24 images: what the
    difference would reveal, computed from the raw label files."""
    masks, values = slice_masks(truth), values_per_label_set(truth)
    totals, slices = published(results, truth, masks, values, size_only)
    found = []
    for covered, label_set, title in totals:
        for slicer in masks:
            taken = np.zeros(len(covered), bool)
            for other_slicer, _name, examples, other in slices:
                alike = np.array_equal(values[label_set][examples], values[other][examples])
                if other_slicer == slicer and alike and not (examples & ~covered).any():
                    taken |= examples
            left = int((covered & ~taken).sum())
            if 0 < left < MINIMUM:
                found.append(f"{title} less the visible {slicer} slices gives a figure over {left} images")
    return found


def test_a_hidden_slice_cannot_be_worked_out_from_the_total_and_the_visible_ones(board, client, staff, truth):
    url = f"/api/submissions/{board['resnet20'].pk}/"
    assert give_aways(results_by_label_set(client.get(url).json()), truth) == []
    client.force_login(staff)
    everything = results_by_label_set(client.get(url).json())
    # the check finds what a rule withholding only small slices would give away: the 18 correctable images
    found = give_aways(everything, truth, size_only=True)
    assert "clean top1 less the visible label_status slices gives a figure over 18 images" in found
    assert "original top1 less the visible label_status slices gives a figure over 18 images" in found
    assert all(line.endswith("a figure over 18 images") for line in found)


def test_withholding_only_small_slices_would_give_the_correctable_figure_away(
    board, client, staff, truth, real_predictions
):
    """The attack the rule stops, on staff's figures: totals less large slices, from the raw counts."""
    client.force_login(staff)
    results = results_by_label_set(client.get(f"/api/submissions/{board['resnet20'].pk}/").json())
    status, expected = truth["status"], correctable_figures(truth, real_predictions("resnet20"))
    size = {name: int(np.isin(status, members).sum()) for name, members in STATUS_SLICES.items()}
    status_slices = {
        label_set: {s["name"]: s["metrics"]["top1"] for s in result["slices"] if s["slicer"] == "label_status"}
        for label_set, result in results.items()
        if label_set in ("original", "clean")
    }
    original = results["original"]["metrics"]["top1"] * 10_000
    original -= (
        status_slices["original"]["clean"] * size["clean"] + status_slices["original"]["dropped"] * size["dropped"]
    )
    assert original / size["correctable"] == pytest.approx(expected["correctable_top1_original"])
    # across label sets: the clean labels' total less the original labels' clean slice (the same labels there)
    clean = results["clean"]["metrics"]["top1"] * (size["clean"] + size["correctable"])
    clean -= status_slices["original"]["clean"] * size["clean"]
    assert clean / size["correctable"] == pytest.approx(expected["correctable_top1_corrected"])


def test_slices_at_or_above_the_threshold_are_still_shown(board, client, truth):
    results = results_by_label_set(client.get(f"/api/submissions/{board['resnet20'].pk}/").json())
    masks = slice_masks(truth)
    for label_set, result in results.items():
        shown = {(s["slicer"], s["name"]): s["count"] for s in result["slices"]}
        classes = {name: shown.get(("class", name)) for name in masks["class"]}
        assert classes == {name: int(mask.sum()) for name, mask in masks["class"].items()}, label_set
        assert shown[("label_multiplicity", "multi-label")] == int(masks["label_multiplicity"]["multi-label"].sum())
        assert "class" in result["summaries"], label_set
    dropped = int(masks["label_status"]["dropped"].sum())
    assert {s["name"]: s["count"] for s in results["original"]["slices"]}["dropped"] == dropped == 36
    page = client.get(f"/submissions/{board['resnet20'].pk}/").content.decode()
    assert "<td>label_status</td><td>dropped</td>" in page and "<td>class</td><td>cat</td>" in page


def test_a_breakdown_with_nothing_left_to_show_is_withheld_whole_with_a_note(board, client, staff):
    """Under the clean labels the total is the clean images plus 18 correctable ones: no label-status slice can
    be shown without giving the 18 away."""
    url = f"/api/submissions/{board['resnet20'].pk}/"
    clean = results_by_label_set(client.get(url).json())["clean"]
    assert not [s for s in clean["slices"] if s["slicer"] == "label_status"]
    assert set(clean["staff_only"]["slices"]["label_status"]) == set(STATUS_SLICES)
    assert "label_status: " in client.get(f"/submissions/{board['resnet20'].pk}/").content.decode()
    client.force_login(staff)
    clean = results_by_label_set(client.get(url).json())["clean"]
    assert {s["name"] for s in clean["slices"] if s["slicer"] == "label_status"} == set(STATUS_SLICES)


def test_each_slice_stores_how_many_of_its_images_were_scored(board, truth):
    """Under the clean labels the class slices hold 10,000 images, of which only the raw files' scored ones count."""
    scored = ~np.isnan(values_per_label_set(truth)["clean"]).any(axis=1)
    classes = board["resnet20"].results.get(label_set__name="clean").slices.filter(slicer="class")
    assert sum(item.count for item in classes) == len(scored)
    assert sum(item.counts["scored"] for item in classes) == int(scored.sum()) < len(scored)


def test_a_large_slice_with_few_scored_images_is_for_staff_only(board, client, staff):
    """25 images or more, but its figure is over 10 of them: the scored count decides, not the image count."""
    result = board["resnet20"].results.get(label_set__name="clean")
    item = result.slices.filter(slicer="class").first()
    SliceResult.objects.filter(pk=item.pk).update(count=30, counts={"scored": 10})
    item.refresh_from_db()
    assert slice_examples(item) == 10
    url = f"/api/submissions/{board['resnet20'].pk}/"

    def names(response):
        clean = results_by_label_set(response.json())["clean"]
        return {(entry["slicer"], entry["name"]) for entry in clean["slices"]}

    assert ("class", item.name) not in names(client.get(url))
    client.force_login(staff)
    assert ("class", item.name) in names(client.get(url))

"""What the charts plot: on a board, each model of the page shown, its headline against what it costs to run; on
a submission's page, its slices, its reliability diagram and its confusions."""

from __future__ import annotations

from django.urls import reverse

from leaderboard.boards import Row
from leaderboard.columns import is_loss, title_under
from leaderboard.disclosure import metric_figures
from leaderboard.models import Result
from plugins.metrics.noise_curve import crossing


def cost_points(rows: list[Row]) -> list[dict]:
    """One point per row shown: its headline (with its 95% interval), GMACs per image and evaluation
    throughput, for the chart's two x axes; a figure the model lacks is None, and the chart leaves it out.

    The chart is the same for everyone, so it plots what anyone may see (leaderboard/disclosure.py): a
    headline over too few examples is None, as if missing."""
    points = []
    for row in rows:
        result, submission = row.result, row.submission
        cost = submission.efficiency or {}
        figures = metric_figures(result, None, staff=False, curves=False)
        interval = figures.intervals.get(result.headline_metric) or [None, None]
        points.append(
            {
                "rank": row.rank,
                "name": submission.name,
                "url": reverse("submission", args=[submission.pk]),
                "value": figures.metrics.get(result.headline_metric),
                "low": interval[0],
                "high": interval[1],
                "gmacs": cost["macs"] / 1e9 if cost.get("macs") else None,
                "throughput": cost.get("throughput"),
            }
        )
    lower_is_better = bool(rows) and is_loss(rows[0].result.headline_metric)
    for axis, cheaper_is_lower in (("gmacs", True), ("throughput", False)):
        pairs = [(point[axis], point["value"]) for point in points]
        front = pareto_front(pairs, cost_lower_is_better=cheaper_is_lower, lower_is_better=lower_is_better)
        for point, on_front in zip(points, front, strict=True):
            point[f"pareto_{axis}"] = on_front
    return points


def pareto_front(points: list[tuple], cost_lower_is_better: bool, lower_is_better: bool) -> list[bool]:
    """For each (cost, value), whether no other point is at least as good on both and better on one: the
    models worth their cost. A point missing either is not on it. A sweep from the best cost: a point is on the
    front when its value beats every value seen at a better cost (ties of cost: the best value only).
    Written here: the sweep is a few lines, and no well-kept library's Pareto helper fits a 50-point page."""
    sign_cost = 1 if cost_lower_is_better else -1
    sign_value = 1 if lower_is_better else -1
    ranked = sorted(
        (sign_cost * cost, sign_value * value, index)
        for index, (cost, value) in enumerate(points)
        if cost is not None and value is not None
    )
    on_front, best = [False] * len(points), None
    for _, value, index in ranked:  # by cost, then by value: the first of a cost is its best
        if best is None or value < best:
            on_front[index], best = True, value
    return on_front


def label_noise_points(shown_rows: list, board_label_set: str) -> list[dict]:
    """One point per row shown that has both an original-label and a clean-label headline, as this reader may see
    them: who gains and who loses from corrected labels (above the diagonal: better under the clean labels)."""
    points = []
    for shown in shown_rows:
        row = shown.row
        own = shown.figures.metrics.get(row.result.headline_metric)
        values = {board_label_set: own}
        for name in ("original", "clean"):
            if name != board_label_set:
                values[name] = (shown.beside_headlines.get(name) or {}).get("value")
        if values.get("original") is None or values.get("clean") is None:
            continue
        points.append(
            {
                "rank": row.rank,
                "name": row.submission.name,
                "url": reverse("submission", args=[row.submission.pk]),
                "original": values["original"],
                "clean": values["clean"],
            }
        )
    return points


def submission_charts(figures, class_names: list[str]) -> dict:
    """What one result's charts draw on its submission page, as this reader may see it (figures: from
    leaderboard/disclosure.py's submission_figures): the headline per slice with its interval beside the overall
    headline, per slicer; the reliability diagram; the confusion matrix or the top confusions. Everything is an
    aggregate the worker stored at scoring time (Result.charts, SliceResult)."""
    result = figures.result
    headline = result.headline_metric
    overall = figures.intervals.get(headline) or [None, None]
    slicers: dict[str, list[dict]] = {}
    for item in figures.slices:
        low, high = (item.intervals or {}).get(headline) or [None, None]
        slicers.setdefault(item.slicer, []).append(
            {"name": item.name, "count": item.count, "value": item.metrics.get(headline), "low": low, "high": high}
        )
    charts = figures.charts or {}
    return {
        "headline": {
            "metric": headline,
            "title": title_under(result.label_set.protocol, headline),
            "value": figures.metrics.get(headline),
            "low": overall[0],
            "high": overall[1],
            "loss": is_loss(headline),
        },
        "slicers": slicers,
        "reliability": charts.get("reliability"),
        "confusion": charts.get("confusion"),
        "class_names": class_names,
    }


CURVE_ENTRIES = 5  # the label-noise chart draws the page's first few entries: more lines than that cannot be read


def noise_curves(rows: list[Row], user) -> dict | None:
    """The label-noise re-ranking curves (the clean protocol's `curves.noise`: accuracy on corrected labels as
    the share of originally mislabeled images rises) of the page's first CURVE_ENTRIES entries, and where each
    entry's curve is overtaken by the next one's (the paper's figure). None on a board without such curves.
    Each curve as this reader may see it: one over too few images is withheld (leaderboard/disclosure.py)."""
    chosen = rows[:CURVE_ENTRIES]
    ids = [row.result.pk for row in chosen]
    results = {
        r.pk: r for r in Result.objects.filter(pk__in=ids).only("pk", "curves", "counts", "metrics", "intervals")
    }
    lines = []
    for row in chosen:
        result = results.get(row.result.pk)
        curve = metric_figures(result, user, curves=True).curves.get("noise") if result is not None else None
        if curve:
            lines.append({"rank": row.rank, "name": row.submission.name, "curve": curve})
    if not lines:
        return None
    crossings = []
    for ahead, behind in zip(lines, lines[1:], strict=False):
        share = crossing(ahead["curve"], behind["curve"])
        if share is not None:
            accuracy = dict(map(tuple, behind["curve"]))[share]
            crossings.append({"share": share, "accuracy": accuracy, "ahead": ahead["name"], "behind": behind["name"]})
    return {"lines": lines, "crossings": crossings}

"""What the charts plot: on a board, each model of the page shown, its headline against what it costs to run; on
a submission's page, its slices, its reliability diagram and its confusions."""

from __future__ import annotations

from django.urls import reverse

from leaderboard.boards import Row
from leaderboard.columns import is_loss, title_under
from leaderboard.disclosure import metric_figures


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

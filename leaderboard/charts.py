"""What the leaderboard's chart plots: each model of the page shown, its headline against what it costs to run."""

from __future__ import annotations

from django.urls import reverse

from leaderboard.boards import Row
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

"""What the leaderboard's chart plots: each ranked model's headline metric against what it costs to run."""

from __future__ import annotations

from django.urls import reverse

from leaderboard.disclosure import metric_figures
from leaderboard.ranking import Row


def cost_points(rows: list[Row]) -> list[dict]:
    """One point per ranked model: its headline (with its 95% interval), GMACs per image and evaluation
    throughput, for the chart's two x axes; a figure the model lacks is None, and the chart leaves it out.

    The chart is the same for everyone, so it plots what anyone may see (leaderboard/disclosure.py): a
    headline over too few examples is None, as if missing."""
    points = []
    for row in rows:
        result, cost = row.result, row.result.submission.efficiency or {}
        figures = metric_figures(result, None)
        interval = figures.intervals.get(result.headline_metric) or [None, None]
        points.append(
            {
                "rank": row.rank,
                "name": result.submission.name,
                "url": reverse("submission", args=[result.submission_id]),
                "value": figures.metrics.get(result.headline_metric),
                "low": interval[0],
                "high": interval[1],
                "gmacs": cost["macs"] / 1e9 if cost.get("macs") else None,
                "throughput": cost.get("throughput"),
            }
        )
    return points

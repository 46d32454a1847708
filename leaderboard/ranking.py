"""Leaderboard order: done, visible submissions by the label set's headline metric, earlier first on ties."""

from __future__ import annotations

from dataclasses import dataclass

from leaderboard.models import LabelSet, Result, Status, TestSet


@dataclass(frozen=True)
class Row:
    rank: int
    result: Result


def current_label_set(testset: TestSet, name: str) -> LabelSet | None:
    return testset.label_sets.filter(name=name, is_current=True).order_by("-version").first()


def leaderboard_rows(testset: TestSet, label_set_name: str = "original", include_hidden: bool = False) -> list[Row]:
    label_set = current_label_set(testset, label_set_name)
    if label_set is None:
        return []
    results = (
        Result.objects.filter(label_set=label_set, submission__status=Status.DONE)
        .select_related("submission__owner")
        .order_by("-headline", "submission__finished_at")
    )
    if not include_hidden:
        results = results.filter(submission__hidden=False)
    return [Row(rank, result) for rank, result in enumerate(results, start=1)]

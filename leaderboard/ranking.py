"""Leaderboard order and what sits beside each entry: done, visible submissions by the label set's headline
metric (earlier first on ties), each with its results under the other label sets and a paired test against
the next entry."""

from __future__ import annotations

from dataclasses import dataclass, field

from leaderboard.models import LabelSet, Result, Status, Submission, TestSet
from plugins.metrics.noise_curve import crossing
from plugins.metrics.paired import TIE_P_VALUE, mcnemar_exact_p

# What each protocol's leaderboard shows: (metric, column title); metrics named in LOSSES are lower-better.
COLUMNS = {
    "original": [("top1", "Top-1"), ("top5", "Top-5"), ("ece", "ECE (15 bins)"), ("nll", "NLL")],
    "clean": [
        ("top1", "Clean top-1"),
        ("top5", "Clean top-5"),
        ("correctable_top1_original", "Correctable, as given"),
        ("correctable_top1_corrected", "Correctable, corrected"),
    ],
    "multilabel": [("top1", "Top-1 (any plausible)"), ("top5", "Top-5 (any plausible)")],
    "soft": [("human_agreement", "Human agreement"), ("cross_entropy", "Cross-entropy")],
}
LOSSES = {"ece", "nll", "brier", "cross_entropy"}
# How the submission page names metrics whose key alone would not say enough.
METRIC_TITLES = {
    "ece": "ECE (15 equal-width bins)",
    "nll": "NLL",
    "brier": "Brier score",
    "correctable_top1_original": "top1 on correctable examples, original labels",
    "correctable_top1_corrected": "top1 on correctable examples, corrected labels",
    "multi_label_share": "share with several plausible labels",
}


@dataclass
class Row:
    rank: int
    result: Result
    others: dict[str, Result] = field(default_factory=dict)  # label set name -> result
    p_value_next: float | None = None  # McNemar against the next row
    overtaken_at: float | None = None  # label-noise prevalence where the next row's curve reaches this one's
    next_result: Result | None = None  # the next row's: leaderboard/disclosure.py shows a crossing of two shown curves

    @property
    def tied_with_next(self) -> bool:
        return self.p_value_next is not None and self.p_value_next >= TIE_P_VALUE


def current_label_set(testset: TestSet, name: str, version: int | None = None) -> LabelSet | None:
    label_sets = testset.label_sets.filter(name=name)
    label_sets = label_sets.filter(version=version) if version else label_sets.filter(is_current=True)
    return label_sets.order_by("-version").first()


def leaderboard_rows(testset: TestSet, label_set: LabelSet | None, include_hidden: bool = False) -> list[Row]:
    """The ranked rows under label_set (see current_label_set), each with its neighbours' paired test."""
    if label_set is None:
        return []
    results = (
        Result.objects.filter(label_set=label_set, submission__status=Status.DONE, headline__isnull=False)
        .select_related("submission__owner", "label_set")
        .order_by("-headline", "submission__finished_at")
    )
    if not include_hidden:  # the public board: leaderboard/models/visibility.py says what is public
        results = results.filter(submission__in=Submission.objects.public())
    rows = [Row(rank, result) for rank, result in enumerate(results, start=1)]
    _attach_other_label_sets(rows, testset)
    _attach_paired_tests(rows, testset.num_examples)
    return rows


def _attach_other_label_sets(rows: list[Row], testset: TestSet) -> None:
    others = Result.objects.filter(
        submission__in=[row.result.submission_id for row in rows],
        label_set__is_current=True,
        label_set__testset=testset,
    ).select_related("label_set")
    by_submission: dict[int, dict[str, Result]] = {}
    for result in others:
        by_submission.setdefault(result.submission_id, {})[result.label_set.name] = result
    for row in rows:
        row.others = by_submission.get(row.result.submission_id, {})


def _attach_paired_tests(rows: list[Row], num_examples: int) -> None:
    """McNemar's exact test on the same examples for each pair of neighbours (where the protocol has one)."""
    correct = [row.result.correct(num_examples) for row in rows]
    for index in range(len(rows) - 1):
        rows[index].next_result = rows[index + 1].result
        if correct[index] is not None and correct[index + 1] is not None:
            rows[index].p_value_next = mcnemar_exact_p(correct[index], correct[index + 1])
        curves = rows[index].result.curves.get("noise"), rows[index + 1].result.curves.get("noise")
        if curves[0] and curves[1]:
            rows[index].overtaken_at = crossing(*curves)

"""Two submissions side by side (`/compare/?a=ID&b=ID`): per label set both figures, the paired difference of the
headline with its 95% interval and McNemar's exact p-value on top-1 hits; per slice both headlines. Computed on
request from the two results' stored per-example data (a few kilobytes each), as the user may see them
(leaderboard/disclosure.py): a figure withheld from either side is withheld from the comparison."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from leaderboard.columns import board_columns, title_under
from leaderboard.disclosure import Figures, figures_of
from leaderboard.models import Submission
from plugins.metrics.paired import TIE_P_VALUE, mcnemar_exact_p, mean_with_interval, paired_difference


class _Pair:
    """A figure of A beside B's (a, b: either None where withheld or missing)."""

    a: float | None
    b: float | None

    @property
    def difference(self) -> float | None:
        return None if self.a is None or self.b is None else self.a - self.b


@dataclass
class MetricPair(_Pair):
    metric: str
    title: str
    a: float | None
    b: float | None
    a_interval: list | None
    b_interval: list | None


@dataclass
class SlicePair(_Pair):
    slicer: str
    name: str
    count: int
    a: float | None
    b: float | None


@dataclass
class LabelSetComparison:
    label_set: object
    headline: str
    headline_title: str
    metrics: list[MetricPair]
    paired: tuple[float, float, float] | None = None  # a - b of the headline, and its 95% interval
    mcnemar_p: float | None = None
    discordant: tuple[int, int] | None = None  # examples only a gets right, only b gets right
    slices: list[SlicePair] = field(default_factory=list)

    @property
    def tied(self) -> bool | None:
        return None if self.mcnemar_p is None else self.mcnemar_p >= TIE_P_VALUE


class CompareError(Exception):
    """A sentence for the page, and its status: 400 for what cannot be compared, 404 for what is not there."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def compare(a: Submission, b: Submission, user) -> list[LabelSetComparison]:
    """Every label set version both have a result on, in the test set's order."""
    if a.pk == b.pk:
        raise CompareError("pick two different submissions")
    if a.testset_id != b.testset_id:
        raise CompareError(f"{a.name} is on {a.testset.name} and {b.name} on {b.testset.name}: nothing to pair")
    figures = [{f.result.label_set_id: f for f in figures_of(submission, user)} for submission in (a, b)]
    shared = sorted(set(figures[0]) & set(figures[1]))
    return [_label_set(figures[0][pk], figures[1][pk], a.testset.num_examples) for pk in shared]


def _label_set(fa: Figures, fb: Figures, num_examples: int) -> LabelSetComparison:
    label_set, headline = fa.result.label_set, fa.result.headline_metric
    ordered = [c.metric for c in board_columns(label_set.protocol)]
    names = [m for m in ordered if m in fa.metrics or m in fb.metrics]
    names += sorted((set(fa.metrics) | set(fb.metrics)) - set(names))
    metrics = [
        MetricPair(
            name,
            title_under(label_set.protocol, name),
            fa.metrics.get(name),
            fb.metrics.get(name),
            fa.intervals.get(name),
            fb.intervals.get(name),
        )
        for name in names
    ]
    title = title_under(label_set.protocol, headline)
    comparison = LabelSetComparison(label_set, headline, title, metrics, slices=_slices(fa, fb, headline))
    if headline in fa.metrics and headline in fb.metrics:  # a headline withheld from this user stays withheld
        _pair(comparison, fa.result, fb.result, num_examples)
    return comparison


def _pair(comparison: LabelSetComparison, ra, rb, num_examples: int) -> None:
    correct = ra.correct(num_examples), rb.correct(num_examples)
    if correct[0] is not None and correct[1] is not None:
        comparison.mcnemar_p = mcnemar_exact_p(*correct)
        only_a = int(np.count_nonzero(correct[0] & ~correct[1]))
        only_b = int(np.count_nonzero(~correct[0] & correct[1]))
        comparison.discordant = (only_a, only_b)
        # top-1 hits are stored for every image, False where a label set scores none (its "scored" count says
        # how many it scores): such an image differs by 0, like one both get wrong, so the differences over the
        # scored images are the nonzero ones and zeros up to that count
        scored = (ra.counts or {}).get("scored", num_examples)
        if scored == (rb.counts or {}).get("scored", num_examples) and scored >= only_a + only_b:
            nonzero = np.concatenate([np.ones(only_a), -np.ones(only_b)])
            comparison.paired = mean_with_interval(np.concatenate([nonzero, np.zeros(scored - len(nonzero))]))
        return
    values = ra.per_example_values(), rb.per_example_values()
    if values[0] is not None and values[1] is not None and len(values[0]) == len(values[1]):
        comparison.paired = paired_difference(*values)


def _slices(fa: Figures, fb: Figures, headline: str) -> list[SlicePair]:
    """The slices both sides show (each side's small-slice rule applied), with their headlines."""
    theirs = {(item.slicer, item.name): item for item in fb.slices}
    pairs = []
    for item in fa.slices:
        other = theirs.get((item.slicer, item.name))
        if other is not None:
            pairs.append(
                SlicePair(item.slicer, item.name, item.count, item.metrics.get(headline), other.metrics.get(headline))
            )
    return pairs

"""Human-validated clean labels (cleanlab's categories, see plugins/annotations/cleanlab.py).

Arrays: original [N], targets [N] (corrected), alternative [N] (second accepted label or -1), status [N].
Correctable examples are scored against their corrected label, multi-label ones accept either label, and
neither and non-agreement examples are left out.
"""

from __future__ import annotations

from plugins.annotations.cleanlab import CLEAN, CORRECTABLE, NEITHER, STATUS_NAMES
from plugins.contracts import Column, Score
from plugins.metrics.accuracy import top_k_hits
from plugins.metrics.noise_curve import noise_curve
from plugins.predictions import Predictions
from plugins.protocols.original import OriginalLabels
from plugins.protocols.single_label import accuracy_with_interval, score_single_label
from plugins.registry import register
from plugins.testset import LabelSetData


@register("label_protocol")
class CleanLabels:
    name = "clean"
    headline = "top1"
    headline_is_proportion = True
    columns = (
        Column("top1", "Clean top-1"),
        Column("top5", "Clean top-5"),
        Column(
            "correctable_top1_original",
            "Correctable, as given",
            description="top1 on correctable examples, original labels",
        ),
        Column(
            "correctable_top1_corrected",
            "Correctable, corrected",
            description="top1 on correctable examples, corrected labels",
        ),
    )
    other_metrics = OriginalLabels.other_metrics + OriginalLabels.columns[2:]

    def score(self, predictions: Predictions, labels: LabelSetData) -> Score:
        status = labels.arrays["status"]
        kept = status < NEITHER  # clean, correctable and multi-label examples are scored
        score = score_single_label(predictions, labels.targets, labels.arrays["alternative"], kept)
        correctable = status == CORRECTABLE
        for name, targets in (("original", labels.arrays["original"]), ("corrected", labels.targets)):
            hits = top_k_hits(predictions.top_classes[correctable], targets[correctable], 1, None)
            key = f"correctable_top1_{name}"
            score.metrics[key], score.intervals[key] = accuracy_with_interval(hits)
            score.counts[key] = int(correctable.sum())  # how many examples it is over: the small-slice rule reads it
        score.counts.update({STATUS_NAMES[code]: int((status == code).sum()) for code in range(len(STATUS_NAMES))})
        score.counts["errors"] = int((status != CLEAN).sum())
        top1 = predictions.top_classes[:, 0]
        clean = status == CLEAN
        curve = noise_curve(top1[correctable] == labels.targets[correctable], top1[clean] == labels.targets[clean])
        score.curves["noise"] = curve
        sizes = (int(mask.sum()) for mask in (correctable, clean, kept))
        score.counts["curves.noise"] = _fewest_examples(curve, *sizes)
        return score


def _fewest_examples(curve: list, correctable: int, clean: int, scored: int) -> int:
    """The fewest examples the noise curve says something about: its smallest point (every correctable example
    and the fewest correctly labeled ones kept), and the multi-label examples, which its first point (every
    correctable and every correctly labeled example) leaves out of the scored ones and so gives away beside
    top1. Point sizes as plugins/metrics/noise_curve.py keeps them."""
    if not curve:
        return 0
    kept = [clean] + [round(correctable * (1 - share) / share) for share, _ in curve[1:]]
    multi_label = scored - correctable - clean
    return min([correctable + n for n in kept] + ([multi_label] if multi_label > 0 else []))

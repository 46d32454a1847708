"""The test set's labels as published: one integer label per example (arrays: targets [N])."""

from __future__ import annotations

from plugins.contracts import Column, Score
from plugins.predictions import Predictions
from plugins.protocols.single_label import score_single_label
from plugins.registry import register
from plugins.testset import LabelSetData


@register("label_protocol")
class OriginalLabels:
    name = "original"
    headline = "top1"
    headline_is_proportion = True
    columns = (
        Column("top1", "Top-1"),
        Column("top5", "Top-5"),
        Column("ece", "ECE (15 bins)", lower_is_better=True, description="ECE (15 equal-width bins)"),
        Column("nll", "NLL", lower_is_better=True),
    )
    other_metrics = (Column("brier", "Brier score", lower_is_better=True),)

    def score(self, predictions: Predictions, labels: LabelSetData) -> Score:
        return score_single_label(predictions, labels.targets)

"""The test set's labels as published: one integer label per example."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from plugins import registry
from plugins.predictions import Predictions
from plugins.testset import LabelSetData


@registry.register("label_protocol", "original")
class OriginalLabels:
    name = "original"
    metrics = ("top1", "top5")
    headline = "top1"  # what leaderboards rank by

    def score(self, predictions: Predictions, labels: LabelSetData) -> dict[str, float]:
        return {name: registry.get("metric", name)(predictions, labels.targets) for name in self.metrics}

    def subset(self, labels: LabelSetData, mask: np.ndarray) -> LabelSetData:
        return replace(labels, targets=labels.targets[mask])

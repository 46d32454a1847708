"""Human label distributions (CIFAR-10H, Peterson et al. 2019). Arrays: distribution float [N, C]."""

from __future__ import annotations

from plugins.contracts import Column, Score
from plugins.metrics.intervals import bootstrap_mean_interval
from plugins.metrics.set_labels import human_agreement_per_image, soft_cross_entropy
from plugins.predictions import Predictions
from plugins.registry import register
from plugins.testset import LabelSetData


@register("label_protocol")
class HumanDistribution:
    name = "soft"
    headline = "human_agreement"
    headline_is_proportion = False
    columns = (
        Column("human_agreement", "Human agreement"),
        Column("cross_entropy", "Cross-entropy", lower_is_better=True),
    )

    def score(self, predictions: Predictions, labels: LabelSetData) -> Score:
        distribution = labels.arrays["distribution"]
        agreement = human_agreement_per_image(predictions.top_classes, distribution)
        return Score(
            metrics={
                "human_agreement": float(agreement.mean()) if len(agreement) else float("nan"),
                "cross_entropy": soft_cross_entropy(predictions, distribution),
            },
            intervals={"human_agreement": bootstrap_mean_interval(agreement)},
            counts={"scored": len(distribution)},
            per_example=agreement,
        )

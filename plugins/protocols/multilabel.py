"""Sets of plausible labels, ReaL style (Beyer et al. 2020): a prediction is right if it is any plausible
label of the image; images with no plausible label are left out. Arrays: plausible bool [N, C]."""

from __future__ import annotations

import numpy as np

from plugins.contracts import Column, Score
from plugins.metrics.set_labels import hits_in_set
from plugins.predictions import Predictions
from plugins.protocols.single_label import accuracy_with_interval
from plugins.registry import register
from plugins.testset import LabelSetData


@register("label_protocol")
class PlausibleLabelSets:
    name = "multilabel"
    headline = "top1"
    headline_is_proportion = True
    columns = (Column("top1", "Top-1 (any plausible)"), Column("top5", "Top-5 (any plausible)"))
    other_metrics = (
        Column("multi_label_share", "Multi-label share", description="share with several plausible labels"),
    )

    def score(self, predictions: Predictions, labels: LabelSetData) -> Score:
        plausible = labels.arrays["plausible"]
        scored = plausible.any(axis=1)
        top1_hits = hits_in_set(predictions.top_classes, plausible, 1) & scored
        top5_hits = hits_in_set(predictions.top_classes, plausible, 5) & scored
        top1, top1_interval = accuracy_with_interval(top1_hits[scored])
        top5, top5_interval = accuracy_with_interval(top5_hits[scored])
        multi = plausible[scored].sum(axis=1) > 1
        return Score(
            metrics={"top1": top1, "top5": top5, "multi_label_share": float(multi.mean()) if len(multi) else np.nan},
            intervals={"top1": top1_interval, "top5": top5_interval},
            counts={"scored": int(scored.sum()), "left_out": int((~scored).sum()), "multi_label": int(multi.sum())},
            correct=top1_hits,
            per_example=np.where(scored, top1_hits, np.nan),
        )

"""Scoring against one label per example (optionally a second accepted one): accuracy, calibration, intervals."""

from __future__ import annotations

import numpy as np

from plugins import registry
from plugins.contracts import Score
from plugins.metrics.accuracy import top_k_hits
from plugins.metrics.calibration import brier_per_example, expected_calibration_error
from plugins.metrics.intervals import wilson_interval
from plugins.predictions import Predictions


def accuracy_with_interval(hits: np.ndarray) -> tuple[float, tuple[float, float]]:
    if len(hits) == 0:
        return float("nan"), (float("nan"), float("nan"))
    return float(hits.mean()), wilson_interval(int(hits.sum()), len(hits))


def score_single_label(
    predictions: Predictions, targets: np.ndarray, alternative: np.ndarray | None = None, kept: np.ndarray | None = None
) -> Score:
    """top1, top5 (with Wilson intervals), ece, nll and brier against targets [N], over the kept examples.

    Per-example values are computed on all N and averaged over the kept ones: no copy of the probabilities.
    NLL and Brier use targets (for a multi-label example, its first label). Any other registered metric
    (a third party's) is computed too, on the kept examples.
    """
    kept = np.ones(len(targets), bool) if kept is None else kept
    top1_hits = top_k_hits(predictions.top_classes, targets, 1, alternative) & kept
    top5_hits = top_k_hits(predictions.top_classes, targets, 5, alternative) & kept
    top1, top1_interval = accuracy_with_interval(top1_hits[kept])
    top5, top5_interval = accuracy_with_interval(top5_hits[kept])
    log_p = predictions.log_prob_of(np.where(kept, targets, -1))  # no rows are read for the examples left out
    nll, brier = -log_p, brier_per_example(predictions, log_p)
    empty = not kept.any()
    score = Score(
        metrics={
            "top1": top1,
            "top5": top5,
            "ece": expected_calibration_error(predictions.confidence[kept], top1_hits[kept]),
            "nll": float("nan") if empty else float(nll[kept].mean()),
            "brier": float("nan") if empty else float(brier[kept].mean()),
        },
        intervals={"top1": top1_interval, "top5": top5_interval},
        counts={"scored": int(kept.sum())},
        correct=top1_hits,
        per_example=np.where(kept, top1_hits, np.nan),
    )
    extra = [name for name in registry.names("metric") if name not in score.metrics]
    if extra:
        kept_predictions, kept_targets = predictions.subset(kept), targets[kept]
        for name in extra:
            score.metrics[name] = float(registry.get("metric", name)(kept_predictions, kept_targets))
    return score

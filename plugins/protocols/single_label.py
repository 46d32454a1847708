"""Scoring against one label per example (optionally a second accepted one): accuracy, calibration, intervals."""

from __future__ import annotations

import numpy as np

from plugins.contracts import Score
from plugins.metrics.calibration import brier_score, expected_calibration_error, negative_log_likelihood
from plugins.metrics.intervals import wilson_interval
from plugins.predictions import Predictions


def top_k_hits(top_classes: np.ndarray, targets: np.ndarray, k: int, alternative: np.ndarray | None) -> np.ndarray:
    """bool [N]: the label (or, where alternative >= 0, the second accepted label) is among the top k."""
    hits = (top_classes[:, :k] == targets[:, None]).any(axis=1)
    if alternative is not None:
        hits |= (alternative >= 0) & (top_classes[:, :k] == alternative[:, None]).any(axis=1)
    return hits


def accuracy_with_interval(hits: np.ndarray) -> tuple[float, tuple[float, float]]:
    if len(hits) == 0:
        return float("nan"), (float("nan"), float("nan"))
    return float(hits.mean()), wilson_interval(int(hits.sum()), len(hits))


def score_single_label(predictions: Predictions, targets: np.ndarray, alternative: np.ndarray | None = None) -> Score:
    """top1, top5 (with Wilson intervals), ece, nll and brier against targets [N]."""
    top1_hits = top_k_hits(predictions.top_classes, targets, 1, alternative)
    top5_hits = top_k_hits(predictions.top_classes, targets, 5, alternative)
    top1, top1_interval = accuracy_with_interval(top1_hits)
    top5, top5_interval = accuracy_with_interval(top5_hits)
    confidence = predictions.top_probs[:, 0].astype(np.float64)
    return Score(
        metrics={
            "top1": top1,
            "top5": top5,
            "ece": expected_calibration_error(confidence, top1_hits),
            "nll": negative_log_likelihood(predictions.probs, targets),
            "brier": brier_score(predictions.probs, targets),
        },
        intervals={"top1": top1_interval, "top5": top5_interval},
        counts={"scored": len(targets)},
        correct=top1_hits,
        per_example=top1_hits.astype(np.float64),
    )

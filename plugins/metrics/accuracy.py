"""Top-k accuracy: the share of examples whose target is among the k most probable classes."""

from __future__ import annotations

import numpy as np

from plugins.predictions import Predictions
from plugins.registry import register


def top_k_hits(
    top_classes: np.ndarray, targets: np.ndarray, k: int, alternative: np.ndarray | None = None
) -> np.ndarray:
    """bool [N]: the label (or, where alternative >= 0, a second accepted label) is among the top k."""
    hits = (top_classes[:, :k] == targets[:, None]).any(axis=1)
    if alternative is not None:
        hits |= (alternative >= 0) & (top_classes[:, :k] == alternative[:, None]).any(axis=1)
    return hits


def top_k_accuracy(top_classes: np.ndarray, target: np.ndarray, k: int) -> float:
    """top_classes int [N, >=k] best first, target int [N]; returns a fraction in [0, 1]."""
    return float(top_k_hits(top_classes, target, k).mean()) if len(target) else float("nan")


@register("metric", "top1")
def top1(predictions: Predictions, target: np.ndarray) -> float:
    return top_k_accuracy(predictions.top_classes, target, 1)


@register("metric", "top5")
def top5(predictions: Predictions, target: np.ndarray) -> float:
    return top_k_accuracy(predictions.top_classes, target, 5)

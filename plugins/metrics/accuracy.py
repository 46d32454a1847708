"""Top-k accuracy: the share of examples whose target is among the k most probable classes."""

from __future__ import annotations

import numpy as np

from plugins.predictions import Predictions
from plugins.registry import register


def top_k_accuracy(top_classes: np.ndarray, target: np.ndarray, k: int) -> float:
    """top_classes int [N, >=k] best first, target int [N]; returns a fraction in [0, 1]."""
    if len(target) == 0:
        return float("nan")
    return float((top_classes[:, :k] == target[:, None]).any(axis=1).mean())


@register("metric", "top1")
def top1(predictions: Predictions, target: np.ndarray) -> float:
    return top_k_accuracy(predictions.top_classes, target, 1)


@register("metric", "top5")
def top5(predictions: Predictions, target: np.ndarray) -> float:
    return top_k_accuracy(predictions.top_classes, target, 5)

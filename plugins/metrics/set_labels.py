"""Accuracy against sets of plausible labels (Beyer et al., "Are we done with ImageNet?", 2020: ReaL) and
against human label distributions (Peterson et al. 2019: CIFAR-10H)."""

from __future__ import annotations

import numpy as np

from plugins.predictions import Predictions


def hits_in_set(top_classes: np.ndarray, plausible: np.ndarray, k: int) -> np.ndarray:
    """bool [N]: is any of the k most probable classes in the image's plausible set (bool [N, C])?"""
    rows = np.arange(len(top_classes))[:, None]
    return plausible[rows, top_classes[:, :k]].any(axis=1)


def soft_cross_entropy(predictions: Predictions, distribution: np.ndarray) -> float:
    """Mean over images of -sum_c h_c log p_c, with h the human distribution and p the model's (every row read:
    a human distribution may put mass on any class)."""
    if not len(predictions):
        return float("nan")
    return float(-np.einsum("ij,ij->i", distribution, predictions.log_probs(), dtype=np.float64).mean())


def human_agreement_per_image(top_classes: np.ndarray, distribution: np.ndarray) -> np.ndarray:
    """float [N]: the share of annotators who chose the model's top-1 class."""
    return distribution[np.arange(len(top_classes)), top_classes[:, 0]]

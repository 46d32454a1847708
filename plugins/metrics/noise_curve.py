"""Accuracy on corrected labels as the share of originally mislabeled examples rises (Northcutt et al. 2021,
section 5): keep every correctable example and a shrinking random share of the correctly labeled ones."""

from __future__ import annotations

import numpy as np

PREVALENCES = (0.01, 0.02, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30)
SEED = 0  # the same subsets for every model, so their curves compare


def noise_curve(correctable_hits: np.ndarray, clean_hits: np.ndarray) -> list[list[float]]:
    """[[prevalence, accuracy], ...] from hits on the correctable examples (under corrected labels) and on
    the correctly labeled ones; starts at the test set's own prevalence. Vectorised: one cumulative sum."""
    corrected = len(correctable_hits)
    if corrected == 0 or len(clean_hits) == 0:
        return []
    order = np.random.default_rng(SEED).permutation(len(clean_hits))  # nested subsets: the first n kept
    kept_hits = np.concatenate([[0], np.cumsum(clean_hits[order])])
    natural = corrected / (corrected + len(clean_hits))
    points = [(natural, len(clean_hits))]
    for prevalence in PREVALENCES:
        if prevalence > natural:
            points.append((prevalence, int(round(corrected * (1 - prevalence) / prevalence))))
    correct_on_corrected = int(correctable_hits.sum())
    return [
        [round(share, 4), (correct_on_corrected + int(kept_hits[kept])) / (corrected + kept)] for share, kept in points
    ]


def crossing(curve_a: list[list[float]], curve_b: list[list[float]]) -> float | None:
    """The first prevalence at which model B's accuracy reaches model A's when A starts ahead, else None."""
    for (share, accuracy_a), (_, accuracy_b) in zip(curve_a, curve_b, strict=False):
        if accuracy_b >= accuracy_a and curve_a[0][1] > curve_b[0][1]:
            return share
    return None

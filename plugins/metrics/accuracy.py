"""Top-k accuracy: the share of examples whose target is among the k most probable classes."""

from __future__ import annotations

import numpy as np


def top_k_hits(
    top_classes: np.ndarray, targets: np.ndarray, k: int, alternative: np.ndarray | None = None
) -> np.ndarray:
    """bool [N]: the label (or, where alternative >= 0, a second accepted label) is among the top k."""
    hits = (top_classes[:, :k] == targets[:, None]).any(axis=1)
    if alternative is not None:
        hits |= (alternative >= 0) & (top_classes[:, :k] == alternative[:, None]).any(axis=1)
    return hits

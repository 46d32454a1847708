"""Label sets from many annotators' votes per image, such as CIFAR-10H (Peterson et al., "Human uncertainty
makes classification more robust", ICCV 2019)."""

from __future__ import annotations

import numpy as np

DEFAULT_PLAUSIBLE_SHARE = 0.10


def soft_label_arrays(counts: np.ndarray) -> dict[str, np.ndarray]:
    """distribution [N, C]: each image's share of votes per class."""
    return {"distribution": counts / counts.sum(axis=1, keepdims=True)}


def plausible_label_arrays(counts: np.ndarray, share: float = DEFAULT_PLAUSIBLE_SHARE) -> dict[str, np.ndarray]:
    """plausible bool [N, C]: the classes chosen by at least `share` of an image's annotators (ReaL-style sets)."""
    return {"plausible": counts / counts.sum(axis=1, keepdims=True) >= share}

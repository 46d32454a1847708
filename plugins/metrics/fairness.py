"""How unevenly a model does across subgroups within each class."""

from __future__ import annotations

import numpy as np


def macro_std(
    per_example: np.ndarray, classes: np.ndarray, subgroups: np.ndarray, num_classes: int, num_subgroups: int
) -> float:
    """MacroStd ("Better May Not Be Fairer", Ding et al. 2022): the mean over classes of the weighted standard
    deviation of accuracy across the class's subgroups (weights: subgroup sizes). Examples without a
    subgroup (-1) or not scored (NaN) are left out; so are classes with no such examples."""
    usable = ~np.isnan(per_example) & (subgroups >= 0)
    key = classes[usable] * num_subgroups + subgroups[usable]
    size = np.bincount(key, minlength=num_classes * num_subgroups).reshape(num_classes, num_subgroups)
    hits = np.bincount(key, weights=per_example[usable], minlength=num_classes * num_subgroups)
    hits = hits.reshape(num_classes, num_subgroups)
    class_size = size.sum(axis=1)
    present = class_size > 0
    if not present.any():
        return float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(size > 0, hits / size, 0.0)
        class_mean = hits.sum(axis=1) / class_size
        variance = (size * (accuracy - class_mean[:, None]) ** 2).sum(axis=1) / class_size
    return float(np.sqrt(variance[present]).mean())

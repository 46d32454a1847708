"""How unevenly a model does across subgroups within each class: MacroStd ("Better May Not Be Fairer", Ding et
al. 2022) across ImageNet-X's top factors, where the test set has them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from plugins.contracts import Score
from plugins.registry import register
from plugins.testset import TestSetManifest, label_arrays_by_protocol, read_annotations

SUBGROUPS = "imagenet_x_top"


def macro_std(
    per_example: np.ndarray, classes: np.ndarray, subgroups: np.ndarray, num_classes: int, num_subgroups: int
) -> float:
    """The mean over classes of the weighted standard deviation of accuracy across the class's subgroups
    (weights: subgroup sizes). Examples without a subgroup (-1) or not scored (NaN) are left out; so are classes
    with no such examples."""
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


@register("summary")
class MacroStd:
    name = "macro_std"

    def summarise(self, root: Path, manifest: TestSetManifest, score: Score) -> dict | None:
        annotations = read_annotations(root, manifest)
        original = label_arrays_by_protocol(root, manifest, "original")  # subgroups within the classes as published
        if SUBGROUPS not in annotations or original is None or score.per_example is None:
            return None
        value = macro_std(
            np.asarray(score.per_example, np.float64),
            original["targets"],
            annotations[SUBGROUPS].astype(np.int64),
            len(manifest.class_names),
            len(manifest.annotations["names"]["imagenet_x"]),
        )
        return {"subgroups": "imagenet_x_top_factor", "value": value}

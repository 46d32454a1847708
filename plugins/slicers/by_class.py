"""One slice per class, by the label set's (single) target."""

from __future__ import annotations

import numpy as np

from plugins.registry import register
from plugins.testset import LabelSetData, TestSetManifest


@register("slicer", "class")
class ByClass:
    name = "class"

    def slices(self, manifest: TestSetManifest, labels: LabelSetData) -> dict[str, np.ndarray]:
        return {name: labels.targets == index for index, name in enumerate(manifest.class_names)}

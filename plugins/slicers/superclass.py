"""One slice per superclass (CIFAR-10's animals and vehicles, ImageNet-X's 100 metaclasses)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from plugins.registry import register
from plugins.testset import TestSetManifest, label_arrays_by_protocol


@register("slicer")
class BySuperclass:
    name = "superclass"

    def slices(self, root: Path, manifest: TestSetManifest) -> dict[str, np.ndarray]:
        original = label_arrays_by_protocol(root, manifest, "original")
        if original is None or not manifest.superclasses:
            return {}
        return {
            superclass: np.isin(original["targets"], members) for superclass, members in manifest.superclasses.items()
        }

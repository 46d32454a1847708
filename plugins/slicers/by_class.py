"""One slice per class, by the original label (the same slices under every protocol)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from plugins.registry import register
from plugins.testset import TestSetManifest, label_arrays_by_protocol


@register("slicer")
class ByClass:
    name = "class"

    def slices(self, root: Path, manifest: TestSetManifest) -> dict[str, np.ndarray]:
        original = label_arrays_by_protocol(root, manifest, "original")
        if original is None:
            return {}
        return {name: original["targets"] == index for index, name in enumerate(manifest.class_names)}

"""Single-label versus multi-label images, by the size of each image's set of plausible labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from plugins.registry import register
from plugins.testset import TestSetManifest, label_arrays_by_protocol


@register("slicer")
class ByLabelMultiplicity:
    name = "label_multiplicity"

    def slices(self, root: Path, manifest: TestSetManifest) -> dict[str, np.ndarray]:
        sets = label_arrays_by_protocol(root, manifest, "multilabel")
        if sets is None:
            return {}
        sizes = sets["plausible"].sum(axis=1)
        return {"single-label": sizes == 1, "multi-label": sizes > 1, "no plausible label": sizes == 0}

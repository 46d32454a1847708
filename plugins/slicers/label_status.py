"""Slices by what human validation found about each example's label: clean, correctable, multi-label,
dropped (neither or non-agreement), from the test set's clean label set."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from plugins.annotations.cleanlab import CLEAN, CORRECTABLE, MULTI_LABEL, NEITHER, NON_AGREEMENT
from plugins.registry import register
from plugins.testset import TestSetManifest, label_arrays_by_protocol


@register("slicer")
class ByLabelStatus:
    name = "label_status"

    def slices(self, root: Path, manifest: TestSetManifest) -> dict[str, np.ndarray]:
        clean = label_arrays_by_protocol(root, manifest, "clean")
        if clean is None:
            return {}
        status = clean["status"]
        return {
            "clean": status == CLEAN,
            "correctable": status == CORRECTABLE,
            "multi-label": status == MULTI_LABEL,
            "dropped": np.isin(status, (NEITHER, NON_AGREEMENT)),
        }

"""Stored predictions x label sets -> metrics, overall and per slice. No model run needed."""

from __future__ import annotations

from pathlib import Path

from plugins import registry
from plugins.predictions import Predictions
from plugins.testset import LabelSetData, LabelSetInfo, TestSetManifest


def score_label_set(predictions: Predictions, root: Path, manifest: TestSetManifest, info: LabelSetInfo) -> dict:
    """{"metrics": {...}, "headline": name, "slices": {slicer: {slice: {"count": n, metric: value}}}}."""
    protocol = registry.get("label_protocol", info.protocol)
    labels = LabelSetData.load(root, info)
    result = {"metrics": protocol.score(predictions, labels), "headline": protocol.headline, "slices": {}}
    for slicer_name in registry.names("slicer"):
        slicer = registry.get("slicer", slicer_name)
        result["slices"][slicer_name] = {
            slice_name: {
                "count": int(mask.sum()),
                **protocol.score(predictions.subset(mask), protocol.subset(labels, mask)),
            }
            for slice_name, mask in slicer.slices(manifest, labels).items()
        }
    return result


def score_all(predictions: Predictions, root: Path, manifest: TestSetManifest) -> dict[str, dict]:
    """Label set name -> its scores, for every label set of the test set."""
    if len(predictions) != manifest.num_examples:
        raise ValueError(f"{len(predictions)} predictions for a test set of {manifest.num_examples}")
    return {info.name: score_label_set(predictions, root, manifest, info) for info in manifest.label_sets}

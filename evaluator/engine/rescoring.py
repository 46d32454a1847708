"""Re-scoring stored predictions against a label set version: no model runs, a few milliseconds each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from evaluator.engine.scoring import DEFAULT_MIN_SLICE, score_label_set, slice_masks
from plugins.predictions import Predictions
from plugins.testset import LabelSetData, LabelSetInfo, TestSetManifest


def rescore(
    prediction_files: dict[int, Path],
    root: Path,
    manifest: TestSetManifest,
    info: LabelSetInfo,
    min_slice: int = DEFAULT_MIN_SLICE,
) -> Iterator[tuple[int, dict]]:
    """Yields (submission id, score) for every stored prediction file that exists."""
    masks = slice_masks(root, manifest, LabelSetData.load(root, info))
    for submission_id, path in prediction_files.items():
        if path.exists():
            yield submission_id, score_label_set(Predictions.load(path), root, manifest, info, min_slice, masks)

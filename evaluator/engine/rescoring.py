"""Re-scoring stored predictions against a label set version: no model runs, a few milliseconds each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from evaluator.engine.scoring import DEFAULT_MIN_SLICE, score_label_set, slice_masks
from plugins.predictions import Predictions
from plugins.testset import LabelSetInfo, TestSetManifest


def rescore(
    stored: dict[int, Callable[[], Predictions | None]],
    root: Path,
    manifest: TestSetManifest,
    info: LabelSetInfo,
    min_slice: int = DEFAULT_MIN_SLICE,
) -> Iterator[tuple[int, dict]]:
    """Yields (submission id, score) for every submission whose stored predictions its loader finds (a loader
    returns None where there are none): the caller decides where they are kept (evaluator/stored.py)."""
    masks = slice_masks(root, manifest)
    for submission_id, load in stored.items():
        predictions = load()
        if predictions is None:
            continue
        try:
            score = score_label_set(predictions, root, manifest, info, min_slice, masks)
        finally:
            predictions.close()
        yield submission_id, score


def from_files(paths: dict[int, Path]) -> dict[int, Callable[[], Predictions | None]]:
    """Loaders of predictions kept as files (benchmarks, tests)."""
    return {submission_id: partial(_load_file, path) for submission_id, path in paths.items()}


def _load_file(path: Path) -> Predictions | None:
    return Predictions.load(path) if path.exists() else None

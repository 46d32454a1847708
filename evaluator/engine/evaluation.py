"""One evaluation from start to end: the entry points used by the Celery task and the evaluate command."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from evaluator.engine.pixel_cache import cached_pixels
from evaluator.engine.run import run_model
from evaluator.engine.scoring import DEFAULT_MIN_SLICE, score_all
from plugins import registry
from plugins.contracts import ModelSource
from plugins.predictions import Predictions
from plugins.recipe import Recipe
from plugins.testset import TestSetManifest

DEFAULT_BATCH_SIZE = 256


@dataclass
class Evaluation:
    predictions: Predictions
    provider: str
    seconds: dict = field(default_factory=dict)  # load, pixels, run, score
    scores: dict = field(default_factory=dict)  # label set name -> score_label_set's dict


def predict(
    source: ModelSource,
    format_name: str,
    recipe: Recipe,
    testset_root: Path,
    predictions_path: Path | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Loads the model and streams the test set through it once; stores the predictions if given a path.

    on_progress(done, total) is called as examples are predicted; it may raise to stop the run.
    """
    manifest = TestSetManifest.load(testset_root)
    seconds = {}
    started = time.perf_counter()
    predictor = registry.get("model_format", format_name).load(source, recipe, len(manifest.class_names))
    seconds["load"] = time.perf_counter() - started

    started = time.perf_counter()
    pixels = cached_pixels(testset_root, manifest, recipe)
    seconds["pixels"] = time.perf_counter() - started

    started = time.perf_counter()
    total = manifest.num_examples
    predictions = run_model(
        predictor,
        pixels,
        recipe,
        len(manifest.class_names),
        batch_size,
        on_batch=(lambda done: on_progress(done, total)) if on_progress else None,
    )
    seconds["run"] = time.perf_counter() - started
    if predictions_path is not None:
        predictions.save(predictions_path)
    return Evaluation(predictions, predictor.provider, seconds)


def score(evaluation: Evaluation, testset_root: Path, min_slice: int = DEFAULT_MIN_SLICE) -> Evaluation:
    """Scores the predictions under every label set of the test set; fills evaluation.scores."""
    started = time.perf_counter()
    manifest = TestSetManifest.load(testset_root)
    evaluation.scores = score_all(evaluation.predictions, testset_root, manifest, min_slice)
    evaluation.seconds["score"] = time.perf_counter() - started
    return evaluation


def evaluate(
    source: ModelSource,
    format_name: str,
    recipe: Recipe,
    testset_root: Path,
    min_slice: int = DEFAULT_MIN_SLICE,
    **options,
) -> Evaluation:
    """predict then score."""
    return score(predict(source, format_name, recipe, testset_root, **options), testset_root, min_slice)

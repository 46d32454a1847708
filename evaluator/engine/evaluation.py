"""One evaluation from start to end: the single entry point used by the Celery task and the CLI."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from evaluator.engine.pixel_cache import cached_pixels
from evaluator.engine.run import run_model
from evaluator.engine.scoring import score_all
from plugins import registry
from plugins.predictions import Predictions
from plugins.recipe import Recipe
from plugins.testset import TestSetManifest

DEFAULT_BATCH_SIZE = 256


@dataclass
class Evaluation:
    predictions: Predictions
    scores: dict  # label set name -> score_label_set's dict
    provider: str
    seconds: dict = field(default_factory=dict)  # load, pixels, run, score


def evaluate(model_path: Path, format_name: str, recipe: Recipe, testset_root: Path,
             predictions_path: Path | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
             on_progress: Callable[[int, int], None] | None = None) -> Evaluation:
    """Loads the model, streams the test set through it once, stores and scores the predictions.

    on_progress(done, total) is called as examples are predicted; it may raise to stop the run.
    """
    manifest = TestSetManifest.load(testset_root)
    seconds = {}
    started = time.perf_counter()
    predictor = registry.get("model_format", format_name).load(model_path, recipe)
    seconds["load"] = time.perf_counter() - started

    started = time.perf_counter()
    pixels = cached_pixels(testset_root, manifest, recipe)
    seconds["pixels"] = time.perf_counter() - started

    started = time.perf_counter()
    total = manifest.num_examples
    predictions = run_model(predictor, pixels, recipe, len(manifest.class_names), batch_size,
                            on_batch=(lambda done: on_progress(done, total)) if on_progress else None)
    seconds["run"] = time.perf_counter() - started
    if predictions_path is not None:
        predictions.save(predictions_path)

    started = time.perf_counter()
    scores = score_all(predictions, testset_root, manifest)
    seconds["score"] = time.perf_counter() - started
    return Evaluation(predictions, scores, predictor.provider, seconds)

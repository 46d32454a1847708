"""One evaluation from start to end: the entry points used by the Celery task and the evaluate command."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluator.engine.efficiency import LATENCY_RUNS, ResidentMemoryPeak, batch1_latency, machine
from evaluator.engine.pixel_cache import cached_pixels
from evaluator.engine.run import run_model
from evaluator.engine.scoring import DEFAULT_MIN_SLICE, score_all
from evaluator.engine.stopping import Stopper
from plugins import registry
from plugins.contracts import ModelSource
from plugins.predictions import Predictions
from plugins.recipe import Recipe
from plugins.testset import TestSetManifest, reference_targets

DEFAULT_BATCH_SIZE = 256
# How many examples (evenly spread over the test set) bfloat16 is checked against float32 on.
PRECISION_SAMPLE = 512

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    predictions: Predictions
    provider: str
    seconds: dict = field(default_factory=dict)  # load, pixels, precision, run, latency, score; to_first_batch
    scores: dict = field(default_factory=dict)  # label set name -> score_label_set's dict
    efficiency: dict = field(default_factory=dict)  # what running the model cost, and on what


def predict(
    source: ModelSource,
    format_name: str,
    recipe: Recipe,
    testset_root: Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[int, int], None] | None = None,
    precision: str = "auto",
    latency_runs: int = LATENCY_RUNS,
    stopper: Stopper | None = None,
    pixel_cache: Path | None = None,
) -> Evaluation:
    """Loads the model and streams the test set through it once (the caller stores the predictions).

    on_progress(done, total) is called as examples are predicted; it may raise to stop the run.
    precision: auto, float32 or bfloat16, for predictors that can choose (see StreamingPredictor).
    stopper: lets another thread end the run (see stopping.py); its reason is what this raises then.
    pixel_cache: the folder of the test set's decoded pixels (default: beside the test set, see pixel_cache.py).
    """
    stopper = stopper or Stopper()
    manifest = TestSetManifest.load(testset_root)
    num_classes, total = len(manifest.class_names), manifest.num_examples
    model_format = registry.get("model_format", format_name)
    seconds, started = {}, time.perf_counter()

    def on_batch(done: int) -> None:
        seconds.setdefault("to_first_batch", time.perf_counter() - started)
        stopper.check()
        if on_progress:
            on_progress(done, total)

    with ResidentMemoryPeak() as host_memory, stopper.raising_its_reason():
        with _timed(seconds, "load"):
            predictor = model_format.load(source, recipe, num_classes)
        stopper.attach(predictor)
        with _timed(seconds, "pixels"):
            pixels = cached_pixels(testset_root, manifest, recipe, folder=pixel_cache)
        with _timed(seconds, "precision"):
            precision_record = _settle_precision(predictor, pixels, testset_root, manifest, recipe, precision)
        with _timed(seconds, "run"):
            predictions, final_batch_size = run_model(predictor, pixels, recipe, num_classes, batch_size, on_batch)
        with _timed(seconds, "latency"):
            measure = latency_runs and len(pixels)
            latency = batch1_latency(predictor, pixels, recipe, num_classes, latency_runs) if measure else None
    efficiency = {
        **_cost(model_format, source, recipe, num_classes),
        "throughput": round(total / seconds["run"], 1) if seconds["run"] else None,
        "batch_size": final_batch_size,
        "latency": latency,
        "peak_memory": _peak_memory(predictor) or host_memory.record(),
        "precision": precision_record,
        "provider": predictor.provider,
        "machine": machine(predictor.provider),
    }
    if hasattr(predictor, "close"):
        predictor.close()
    return Evaluation(predictions, predictor.provider, seconds, efficiency=efficiency)


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


@contextlib.contextmanager
def _timed(seconds: dict, name: str):
    started = time.perf_counter()
    yield
    seconds[name] = time.perf_counter() - started


def _settle_precision(predictor, pixels, root: Path, manifest: TestSetManifest, recipe: Recipe, policy: str) -> dict:
    if not hasattr(predictor, "settle_precision"):
        return {"precision": "float32", "reason": "the model's format runs as exported"}

    def sample() -> tuple[np.ndarray, np.ndarray | None]:
        """Examples spread evenly over the test set, with their labels where the test set has one per example."""
        indices = np.unique(np.linspace(0, len(pixels) - 1, min(len(pixels), PRECISION_SAMPLE)).astype(np.int64))
        targets = reference_targets(root, manifest)
        return np.asarray(pixels[indices]), targets[indices] if targets is not None else None

    return predictor.settle_precision(sample, recipe, policy)


def _peak_memory(predictor) -> dict | None:
    return predictor.peak_memory() if hasattr(predictor, "peak_memory") else None


def _cost(model_format, source: ModelSource, recipe: Recipe, num_classes: int) -> dict:
    if not hasattr(model_format, "cost"):
        return {}
    try:
        return model_format.cost(source, recipe, num_classes)
    except Exception:  # a figure we could not count must not cost the submitter their evaluation
        log.exception("could not count the cost of a %s model", model_format.name)
        return {}

"""Streams pixels through a loaded model and turns its scores into stored predictions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from evaluator.engine.batches import normalised_batches
from plugins.contracts import Predictor
from plugins.errors import SubmissionError
from plugins.predictions import Predictions, softmax
from plugins.recipe import Recipe


def run_model(
    predictor: Predictor,
    pixels: np.ndarray,
    recipe: Recipe,
    num_classes: int,
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> Predictions:
    """Runs every example once; on_batch(examples done) after each batch (it may raise to cancel)."""
    probs = np.empty((len(pixels), num_classes), np.float32)
    for start, batch in normalised_batches(pixels, recipe, batch_size):
        scores = predictor.predict(batch)
        _check_scores(scores, len(batch), num_classes)
        probs[start : start + len(batch)] = softmax(scores.astype(np.float64)) if recipe.output == "logits" else scores
        if on_batch:
            on_batch(start + len(batch))
    if recipe.output == "probabilities":
        _check_probabilities(probs)
    return Predictions.from_probabilities(probs)


def _check_scores(scores: np.ndarray, batch_size: int, num_classes: int) -> None:
    if scores.ndim != 2 or scores.shape != (batch_size, num_classes):
        raise SubmissionError(
            f"the model returned an output of shape {list(scores.shape)} for a batch of "
            f"{batch_size}; expected [{batch_size}, {num_classes}]"
        )
    if not np.isfinite(scores).all():
        raise SubmissionError("the model's output contains NaN or infinite values")


def _check_probabilities(probs: np.ndarray) -> None:
    row_sums = probs.sum(axis=1)
    if (probs < 0).any() or not np.allclose(row_sums, 1.0, atol=1e-3):
        raise SubmissionError(
            "the model was declared to output probabilities, but its rows do not sum to 1 "
            f"(they sum to between {row_sums.min():.3g} and {row_sums.max():.3g}); "
            "declare its output as logits instead"
        )

"""Streams pixels through a loaded model and turns its scores into stored predictions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from evaluator.engine.streaming import stream_scores
from plugins.contracts import Predictor
from plugins.errors import SubmissionError
from plugins.predictions import NOT_FINITE, Predictions
from plugins.recipe import Recipe


def run_model(
    predictor: Predictor,
    pixels: np.ndarray,
    recipe: Recipe,
    num_classes: int,
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[Predictions, int]:
    """Runs every example once; on_batch(examples done) after each batch (it may raise to cancel).

    Returns the predictions and the batch size that ran to the end (smaller if the device ran out of memory)."""
    scores, batch_size = stream_scores(predictor, pixels, recipe, num_classes, batch_size, on_batch)
    if not np.isfinite(scores).all():
        raise SubmissionError(NOT_FINITE)
    if recipe.output == "logits":
        return Predictions.from_logits(scores, overwrite=True), batch_size
    _check_probabilities(scores)
    return Predictions.from_probabilities(scores, overwrite=True), batch_size


def _check_probabilities(probs: np.ndarray) -> None:
    row_sums = probs.sum(axis=1)
    if (probs < 0).any() or not np.allclose(row_sums, 1.0, atol=1e-3):
        raise SubmissionError(
            "the model was declared to output probabilities, but its rows do not sum to 1 "
            f"(they sum to between {row_sums.min():.3g} and {row_sums.max():.3g}); "
            "declare its output as logits instead"
        )

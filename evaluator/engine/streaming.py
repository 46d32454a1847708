"""Scores for every example, batch after batch, through whatever the predictor offers; when a batch does not fit
in the device's memory, the rest goes on in batches half as big."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import numpy as np

from evaluator.engine.batches import normalise
from plugins.batch_loop import predict_batches_into
from plugins.contracts import Predictor
from plugins.errors import DeviceOutOfMemory, SubmissionError
from plugins.recipe import Recipe

log = logging.getLogger(__name__)


def stream_scores(
    predictor: Predictor,
    pixels: np.ndarray,
    recipe: Recipe,
    num_classes: int,
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """float32 scores [N, C] and the batch size that carried the run to its end."""
    scores = np.empty((len(pixels), num_classes), np.float32)
    predict_into = getattr(predictor, "predict_into", None) or functools.partial(_batchwise_into, predictor)
    done = 0
    while done < len(pixels):
        try:
            predict_into(pixels[done:], scores[done:], recipe, batch_size, _offset(on_batch, done))
            done = len(pixels)
        except DeviceOutOfMemory as error:
            done += error.done
            if batch_size == 1:
                message = "the model does not fit in the device's memory, even one image at a time"
                raise SubmissionError(message) from None
            batch_size //= 2
            log.warning("out of device memory; going on from example %d with batches of %d", done, batch_size)
    return scores, batch_size


def _offset(on_batch: Callable[[int], None] | None, offset: int) -> Callable[[int], None]:
    return (lambda done: on_batch(offset + done)) if on_batch else (lambda done: None)


def _batchwise_into(
    predictor: Predictor,
    pixels: np.ndarray,
    out: np.ndarray,
    recipe: Recipe,
    batch_size: int,
    on_batch: Callable[[int], None],
) -> None:
    """The plain contract: float32 batches normalised on the host, through predict()."""
    predict_batches_into(pixels, out, batch_size, lambda chunk: normalise(chunk, recipe), predictor.predict, on_batch)

"""The loop of a predictor that takes host batches: the next batch is prepared on a helper thread (numpy and
onnxruntime release the GIL) while the model runs the current one, and each batch's scores are checked and
written in place."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from plugins.errors import DeviceOutOfMemory, SubmissionError
from plugins.predictions import NOT_FINITE, check_scores_shape


def predict_batches_into(
    pixels: np.ndarray,
    out: np.ndarray,
    batch_size: int,
    prepare: Callable[[np.ndarray], np.ndarray],
    run: Callable[[np.ndarray], np.ndarray],
    on_batch: Callable[[int], None],
) -> None:
    """out[i] = run(prepare(pixels batch))[i] for every example; DeviceOutOfMemory(examples done) if a batch
    does not fit."""
    for start, batch in _read_ahead(pixels, batch_size, prepare):
        try:
            scores = run(batch)
        except DeviceOutOfMemory:
            raise DeviceOutOfMemory(start) from None
        check_scores_shape(np.shape(scores), len(batch), out.shape[1])
        if not np.isfinite(scores).all():  # at the first bad batch: failing on purpose must not cost a whole run
            raise SubmissionError(NOT_FINITE)
        out[start : start + len(batch)] = scores
        on_batch(start + len(batch))


def _read_ahead(pixels: np.ndarray, batch_size: int, prepare: Callable) -> Iterator[tuple[int, np.ndarray]]:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as helper:
        upcoming = helper.submit(prepare, pixels[:batch_size]) if len(pixels) else None
        for start in range(0, len(pixels), batch_size):
            batch = upcoming.result()
            following = start + batch_size
            if following < len(pixels):
                upcoming = helper.submit(prepare, pixels[following : following + batch_size])
            yield start, batch

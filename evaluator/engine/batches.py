"""uint8 pixels -> normalised float32 NCHW batches, as the recipe's values, channel order and stats say."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from plugins.recipe import Recipe


def normalised_batches(pixels: np.ndarray, recipe: Recipe, batch_size: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yields (start index, float32 [n, 3, S, S]) over uint8 [N, S, S, 3] pixels."""
    for start in range(0, len(pixels), batch_size):
        yield start, normalise(pixels[start : start + batch_size], recipe)


def normalise(pixels: np.ndarray, recipe: Recipe) -> np.ndarray:
    """float32 [n, 3, S, S] model input from uint8 [n, S, S, 3] pixels."""
    scale, offset = recipe.scale_and_offset()
    batch = np.asarray(pixels)[..., recipe.channel_indices()].astype(np.float32) * scale + offset
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))

"""uint8 pixels -> normalised float32 NCHW batches, as the recipe's values, channel order and stats say."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from plugins.recipe import Recipe


def normaliser(recipe: Recipe) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (scale, offset) with model_input = pixel * scale + offset, in the recipe's channel order."""
    mean, std = np.array(recipe.mean, np.float64), np.array(recipe.std, np.float64)
    scale = recipe.value_range / 255.0 / std
    offset = -mean / std
    return scale.astype(np.float32), offset.astype(np.float32)


def normalised_batches(pixels: np.ndarray, recipe: Recipe, batch_size: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yields (start index, float32 [n, 3, S, S]) over uint8 [N, S, S, 3] pixels."""
    for start in range(0, len(pixels), batch_size):
        yield start, normalise(pixels[start : start + batch_size], recipe)


def normalise(pixels: np.ndarray, recipe: Recipe) -> np.ndarray:
    """float32 [n, 3, S, S] model input from uint8 [n, S, S, 3] pixels."""
    scale, offset = normaliser(recipe)
    channels = [2, 1, 0] if recipe.channel_order == "BGR" else [0, 1, 2]
    batch = np.asarray(pixels)[..., channels].astype(np.float32) * scale[channels] + offset[channels]
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))

"""Decoded image -> uint8 pixels of the model's input size, as the recipe's geometry says."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from plugins.recipe import Recipe

RESAMPLING = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
}


def resize_and_crop(image: Image.Image, recipe: Recipe) -> np.ndarray:
    """Resizes (shorter side to size / crop_pct, or squash) then centre-crops; returns uint8 [S, S, 3]."""
    size = recipe.input_size
    scale_size = math.floor(size / recipe.crop_pct)  # timm's rule for the pre-crop size
    width, height = image.size
    if recipe.resize == "squash":
        target = (scale_size, scale_size)
    elif width <= height:
        target = (scale_size, round(height * scale_size / width))
    else:
        target = (round(width * scale_size / height), scale_size)
    if target != image.size:  # resampling to the same size would still blur a little
        image = image.resize(target, RESAMPLING[recipe.interpolation])
    left = int(round((image.width - size) / 2.0))
    top = int(round((image.height - size) / 2.0))
    if (left, top, image.width, image.height) != (0, 0, size, size):
        image = image.crop((left, top, left + size, top + size))
    return np.asarray(image, dtype=np.uint8)

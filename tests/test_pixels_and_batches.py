"""Resizing, cropping and normalisation, checked against torchvision's transforms and plain float64 maths."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from torchvision import transforms

from evaluator.engine.batches import normalised_batches
from evaluator.engine.pixels import resize_and_crop
from plugins.recipe import Recipe


@pytest.fixture
def photo():
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))  # 64 wide, 48 high


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "nearest"])
def test_shorter_side_resize_and_centre_crop_match_torchvision(photo, interpolation):
    recipe = Recipe(input_size=32, crop_pct=0.875, interpolation=interpolation)
    mode = transforms.InterpolationMode(interpolation)
    expected = transforms.Compose([transforms.Resize(36, interpolation=mode), transforms.CenterCrop(32)])(photo)
    np.testing.assert_array_equal(resize_and_crop(photo, recipe), np.asarray(expected))


def test_squash_ignores_the_aspect_ratio(photo):
    recipe = Recipe(input_size=32, resize="squash", crop_pct=1.0)
    expected = np.asarray(photo.resize((32, 32), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(resize_and_crop(photo, recipe), expected)


def test_an_image_already_at_size_is_left_untouched():
    pixels = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    np.testing.assert_array_equal(resize_and_crop(Image.fromarray(pixels), Recipe(input_size=32)), pixels)


@pytest.mark.parametrize("value_range", [1.0, 255.0])
def test_normalisation_matches_float64_maths(value_range):
    pixels = np.random.default_rng(2).integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    recipe = Recipe(input_size=8, mean=(0.4, 0.5, 0.6), std=(0.2, 0.25, 0.3), value_range=value_range)
    (_, first), (_, second) = normalised_batches(pixels, recipe, batch_size=3)
    expected = (pixels / 255.0 * value_range - np.array(recipe.mean)) / np.array(recipe.std)
    np.testing.assert_allclose(np.concatenate([first, second]), expected.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5)


def test_bgr_swaps_channels_and_their_statistics():
    pixels = np.zeros((1, 2, 2, 3), np.uint8)
    pixels[..., 0] = 255  # pure red
    recipe = Recipe(input_size=8, mean=(0.1, 0.2, 0.3), std=(1, 1, 1), channel_order="BGR")
    ((_, batch),) = normalised_batches(pixels, recipe, batch_size=1)
    assert batch[0, :, 0, 0] == pytest.approx([0 - 0.3, 0 - 0.2, 1 - 0.1])

"""The test set decoded and resized once per recipe geometry, kept as a memory-mapped uint8 array.

Two workers may build the same cache at once: a file lock makes the second wait and then reuse it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from evaluator.engine.pixels import resize_and_crop
from plugins import registry
from plugins.recipe import Recipe
from plugins.testset import TestSetManifest


def cache_path(root: Path, manifest: TestSetManifest, recipe: Recipe, folder: Path | None = None) -> Path:
    """folder: where the cache lives, default the test set's own cache/ (a test set mounted read-only needs
    another: ZOOBOARD_CACHE_DIR)."""
    name = f"v{manifest.version}-{recipe.geometry_key()}-{recipe.input_size}px.u8"
    return (folder if folder is not None else root / "cache") / name


def cached_pixels(
    root: Path,
    manifest: TestSetManifest,
    recipe: Recipe,
    on_image: Callable[[int], None] | None = None,
    folder: Path | None = None,
) -> np.ndarray:
    """uint8 [N, S, S, 3] in the test set's order, built on first use (in folder, see cache_path)."""
    path = cache_path(root, manifest, recipe, folder)
    shape = (manifest.num_examples, recipe.input_size, recipe.input_size, 3)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():  # another worker may have built it while we waited
                _build(root, manifest, recipe, path, shape, on_image)
    return np.memmap(path, dtype=np.uint8, mode="r", shape=shape)


def _build(
    root: Path,
    manifest: TestSetManifest,
    recipe: Recipe,
    path: Path,
    shape: tuple,
    on_image: Callable[[int], None] | None,
) -> None:
    partial = path.with_suffix(f".partial-{os.getpid()}")
    pixels = np.memmap(partial, dtype=np.uint8, mode="w+", shape=shape)
    reader = registry.get("testset_reader", manifest.reader)
    count = 0
    for count, image in enumerate(reader.images(root, manifest), start=1):
        pixels[count - 1] = resize_and_crop(image, recipe)
        if on_image:
            on_image(count)
    if count != manifest.num_examples:
        partial.unlink()
        raise RuntimeError(
            f"test set {manifest.name} yielded {count} images, its manifest says {manifest.num_examples}"
        )
    pixels.flush()
    del pixels
    partial.replace(path)

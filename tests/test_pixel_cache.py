"""The pixel cache: built once per geometry (even by two processes at once), equal to decoding, shared across
normalisations, separate per test-set version, and never left half-written."""

from __future__ import annotations

import dataclasses
import multiprocessing
from itertools import islice

import numpy as np
import pytest

from evaluator.engine.pixel_cache import cache_path, cached_pixels
from evaluator.engine.pixels import resize_and_crop
from plugins import registry
from plugins.recipe import Recipe
from plugins.testset import TestSetManifest

# Geometries no other test uses, so each test here starts without a cache.
CONCURRENT = Recipe(input_size=20, crop_pct=1.0, interpolation="nearest")
SHARED = Recipe(input_size=18, crop_pct=0.9, interpolation="box")


def build_in_a_process(root, barrier, results) -> None:
    manifest = TestSetManifest.load(root)
    decoded = []
    barrier.wait()  # both processes ask for the cache at the same moment
    pixels = cached_pixels(root, manifest, CONCURRENT, on_image=decoded.append)
    results.put((len(decoded), int(pixels.astype(np.int64).sum())))


def test_two_processes_building_at_once_decode_the_test_set_once(cifar10_root):
    # fresh interpreters, as two worker processes would be: a fork would copy this process's thread pools
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [context.Process(target=build_in_a_process, args=(cifar10_root, barrier, results)) for _ in range(2)]
    for process in processes:
        process.start()
    outcomes = sorted(results.get(timeout=300) for _ in processes)
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    (waited, first_sum), (built, second_sum) = outcomes
    assert (waited, built) == (0, 10_000)  # one built it, the other waited on the lock and mapped it
    assert first_sum == second_sum
    manifest = TestSetManifest.load(cifar10_root)
    assert not list(cache_path(cifar10_root, manifest, CONCURRENT).parent.glob("*.partial-*"))


def test_the_cache_holds_what_decoding_gives_and_serves_every_normalisation(cifar10_root):
    manifest = TestSetManifest.load(cifar10_root)
    pixels = cached_pixels(cifar10_root, manifest, SHARED)
    reader = registry.get("testset_reader", manifest.reader)
    for index, image in enumerate(islice(reader.images(cifar10_root, manifest), 40)):
        np.testing.assert_array_equal(pixels[index], resize_and_crop(image, SHARED))
    other_statistics = dataclasses.replace(SHARED, mean=(0.5, 0.5, 0.5), std=(0.2, 0.2, 0.2), channel_order="BGR")
    decoded = []
    again = cached_pixels(cifar10_root, manifest, other_statistics, on_image=decoded.append)
    assert decoded == [] and again.filename == pixels.filename


def test_a_new_test_set_version_gets_its_own_cache(cifar10_root):
    manifest = TestSetManifest.load(cifar10_root)
    newer = dataclasses.replace(manifest, version=manifest.version + 1)
    assert cache_path(cifar10_root, manifest, SHARED) != cache_path(cifar10_root, newer, SHARED)


def test_a_build_that_comes_up_short_leaves_nothing_behind(cifar10_root):
    manifest = TestSetManifest.load(cifar10_root)
    claims_more = dataclasses.replace(manifest, num_examples=manifest.num_examples + 1, version=999)
    recipe = Recipe(input_size=8, crop_pct=1.0)
    with pytest.raises(RuntimeError, match="yielded 10000 images, its manifest says 10001"):
        cached_pixels(cifar10_root, claims_more, recipe)
    path = cache_path(cifar10_root, claims_more, recipe)
    assert not path.exists() and not list(path.parent.glob(f"{path.stem}.partial-*"))

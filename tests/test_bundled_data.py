"""The copies in the repository are the real files, and the converted models are right on lossless images."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from evaluator.engine.batches import normalised_batches
from plugins.checksums import file_sha256
from plugins.recipe import Recipe
from tests.conftest import REPO, require_shared

BUNDLED = REPO / "evaluator" / "bundled"


def checksum_lines(folder):
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        yield digest, name.removeprefix("./")


@pytest.mark.parametrize("folder", ["cifar10-test", "cifar10-pretrained"])
def test_bundled_files_match_their_checksums(folder):
    for digest, name in checksum_lines(BUNDLED / folder):
        assert file_sha256(BUNDLED / folder / name) == digest, name


@pytest.mark.parametrize("folder", ["cifar10-test", "cifar10-pretrained"])
def test_bundled_files_are_the_shared_originals(folder):
    shared = dict((name, digest) for digest, name in checksum_lines(require_shared(folder)))
    for digest, name in checksum_lines(BUNDLED / folder):
        assert shared[name] == digest, name


@pytest.mark.parametrize("model", ["resnet20", "resnet56"])
def test_converted_models_classify_the_lossless_first_twenty_images(model, model_path):
    """The JPEG copy costs ten points; on the 20 lossless PNGs both ResNets are right every time."""
    import onnxruntime

    pngs = sorted(require_shared("cifar10-test/exact_png_first20").glob("cifar10_*_*.png"))
    assert len(pngs) == 20
    labels = [int(re.match(r"cifar10_\d+_(\d)\.png", png.name).group(1)) for png in pngs]
    pixels = np.stack([np.asarray(Image.open(png).convert("RGB")) for png in pngs])
    ((_, batch),) = normalised_batches(pixels, Recipe(input_size=32), batch_size=20)
    session = onnxruntime.InferenceSession(str(model_path(model)), providers=["CPUExecutionProvider"])
    predicted = session.run(None, {"input": batch})[0].argmax(1)
    assert predicted.tolist() == labels

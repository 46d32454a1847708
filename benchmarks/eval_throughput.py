"""Evaluation throughput on the real CIFAR-10 test set, side by side in one run:

- the limit: a bare onnxruntime loop over a preloaded, already normalised float32 array;
- ours: the engine's predict() (pixel cache warm: batches normalised from uint8, model, predictions);
- a per-image pipeline like timm's validate.py: decode and resize every JPEG, then the model;
- cold start: from task start to the first batch, without and with the pixel cache.

    python benchmarks/eval_throughput.py [MODEL.onnx | resnet20 | resnet56 | resnet8] [--batch-size 256]

Goal (issue 5) on this 2-core CPU machine: ours >= 0.9x the bare loop for ResNet56.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluator.conversion.bundled_models import MODELS, convert_all, file_name  # noqa: E402
from evaluator.engine.batches import normalised_batches  # noqa: E402
from evaluator.engine.evaluation import predict  # noqa: E402
from evaluator.engine.pixel_cache import cached_pixels  # noqa: E402
from evaluator.engine.pixels import resize_and_crop  # noqa: E402
from plugins import registry  # noqa: E402
from plugins.contracts import ModelSource  # noqa: E402
from plugins.recipe import Recipe  # noqa: E402
from plugins.submission_check import check_model  # noqa: E402
from plugins.testset import TestSetManifest  # noqa: E402

BUNDLED = Path(__file__).resolve().parent.parent / "evaluator" / "bundled"


def model_file(argument: str, scratch: Path) -> Path:
    if Path(argument).is_file():
        return Path(argument)
    names = {file_name(name).removesuffix(".onnx"): file_name(name) for name in MODELS}
    return convert_all(scratch, only=[names[argument]]).popitem()[1]


def bare_loop(session, array: np.ndarray, batch_size: int) -> float:
    name = session.get_inputs()[0].name
    started = time.perf_counter()
    for start in range(0, len(array), batch_size):
        session.run(None, {name: array[start : start + batch_size]})
    return len(array) / (time.perf_counter() - started)


def per_image_pipeline(session, recipe: Recipe, batch_size: int) -> float:
    """Decode, resize and normalise each JPEG as it comes, batch, run: what validate.py does every time."""
    with open(BUNDLED / "cifar10-test" / "cifar10_test_index.csv", newline="") as handle:
        members = [row["jpeg_path_in_tar"] for row in csv.DictReader(handle)]
    name = session.get_inputs()[0].name
    started = time.perf_counter()
    with tarfile.open(BUNDLED / "cifar10-test" / "cifar10_test_jpeg_q75.tar") as archive:
        for start in range(0, len(members), batch_size):
            pixels = np.stack(
                [
                    resize_and_crop(Image.open(io.BytesIO(archive.extractfile(m).read())).convert("RGB"), recipe)
                    for m in members[start : start + batch_size]
                ]
            )
            ((_, batch),) = normalised_batches(pixels, recipe, len(pixels))
            session.run(None, {name: batch})
    return len(members) / (time.perf_counter() - started)


def first_batch_seconds(source: ModelSource, recipe: Recipe, root: Path) -> float:
    """Task start to the first batch predicted: model load, pixels (built or mapped), one batch."""
    started = time.perf_counter()
    predictor = registry.get("model_format", "onnx").load(source, recipe, 10)
    pixels = cached_pixels(root, TestSetManifest.load(root), recipe)
    (_, batch) = next(iter(normalised_batches(pixels[:256], recipe, 256)))
    predictor.predict(batch)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", default="resnet56")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        root = scratch / "cifar10"
        registry.get("testset_reader", "cifar10").import_testset(BUNDLED, root, 1)
        source = ModelSource(model_file(args.model, scratch))
        _, recipe = check_model("onnx", source, 10, {}, Recipe(input_size=32, crop_pct=1.0))

        cold = first_batch_seconds(source, recipe, root)  # builds the pixel cache
        warm = first_batch_seconds(source, recipe, root)

        session = registry.get("model_format", "onnx").load(source, recipe, 10).session
        pixels = np.asarray(cached_pixels(root, TestSetManifest.load(root), recipe))
        preloaded = np.concatenate([batch for _, batch in normalised_batches(pixels, recipe, args.batch_size)])
        bare_loop(session, preloaded[: args.batch_size * 2], args.batch_size)  # warm-up
        limit = bare_loop(session, preloaded, args.batch_size)

        started = time.perf_counter()
        predict(source, "onnx", recipe, root, batch_size=args.batch_size)
        ours = len(preloaded) / (time.perf_counter() - started)

        naive = per_image_pipeline(session, recipe, args.batch_size)

    print(f"model {args.model}, batch {args.batch_size}, {len(preloaded):,} CIFAR-10 test images, CPU")
    print(f"bare onnxruntime loop over a preloaded array: {limit:,.0f} images/s (the limit)")
    print(
        f"ours, engine predict() with a warm pixel cache: {ours:,.0f} images/s = {ours / limit:.2f}x the limit "
        f"(goal >= 0.9x)"
    )
    print(f"per-image decode pipeline (validate.py style): {naive:,.0f} images/s; ours is {ours / naive:.2f}x it")
    print(f"cold start to the first batch: {cold:.2f} s building the pixel cache, {warm:.2f} s with it")


if __name__ == "__main__":
    main()

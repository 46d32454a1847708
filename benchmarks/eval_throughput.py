"""Evaluation throughput, side by side in one run:

- the limit: the model alone, on an array already in place (ONNX: a bare onnxruntime loop over a preloaded,
  normalised array; timm: the forward pass on random device input at the same batch size and precision);
- ours: the engine's predict() with a warm pixel cache (batches from the uint8 cache, normalised, model, stored);
- a per-image pipeline like timm's validate.py: decode and resize every JPEG, then the model;
- cold start: from task start to the first batch, without and with the pixel cache.

    python benchmarks/eval_throughput.py [resnet56 | resnet20 | resnet8 | MODEL.onnx] [--batch-size 256]
    python benchmarks/eval_throughput.py timm:resnet50 [--testset imagenet|cifar10] [--precision auto]

ONNX models run on bundled CIFAR-10. timm models get random weights (speed does not depend on them) and run on
the 1,300 real ImageNet val images when ../shared/data has them, else on CIFAR-10 with a 10-class head.
Goals (issue 5): ours >= 0.9x the limit (ONNX ResNet56 on this 2-core CPU; any model on a GPU), and >= 4x the
per-image pipeline for resnet50 on an H100.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from evaluator.conversion.bundled_models import MODELS, convert_all, file_name  # noqa: E402
from evaluator.engine.batches import normalised_batches  # noqa: E402
from evaluator.engine.evaluation import predict  # noqa: E402
from evaluator.engine.pixel_cache import cached_pixels  # noqa: E402
from evaluator.engine.pixels import resize_and_crop  # noqa: E402
from plugins import registry  # noqa: E402
from plugins.contracts import ModelSource  # noqa: E402
from plugins.precision import PRECISION_POLICIES  # noqa: E402
from plugins.readers.imagenet import SUBSET_ARCHIVE  # noqa: E402
from plugins.recipe import Recipe  # noqa: E402
from plugins.submission_check import check_model  # noqa: E402
from plugins.testset import TestSetManifest  # noqa: E402

BUNDLED = REPO / "evaluator" / "bundled"
SHARED_DATA = REPO.parent / "shared" / "data"


def import_testset(name: str, scratch: Path) -> Path:
    root = scratch / name
    images = SHARED_DATA / SUBSET_ARCHIVE if name == "imagenet" else None
    registry.get("testset_reader", name).import_testset(BUNDLED, root, 1, images)
    return root


def onnx_source(argument: str, scratch: Path) -> ModelSource:
    if Path(argument).is_file():
        return ModelSource(Path(argument))
    names = {file_name(name).removesuffix(".onnx"): file_name(name) for name in MODELS}
    return ModelSource(convert_all(scratch, only=[names[argument]]).popitem()[1])


def timm_source(identifier: str, num_classes: int, scratch: Path) -> ModelSource:
    import timm
    from safetensors.torch import save_file

    model = timm.create_model(identifier.removeprefix("timm:"), num_classes=num_classes)
    save_file(model.state_dict(), scratch / "weights.safetensors")
    return ModelSource(scratch / "weights.safetensors", identifier)


def onnx_limit(source: ModelSource, pixels: np.ndarray, recipe: Recipe, batch_size: int) -> float:
    """A bare onnxruntime loop, the model as submitted, over a preloaded, already normalised float32 array."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(source.file), providers=onnxruntime.get_available_providers())
    name = session.get_inputs()[0].name
    preloaded = np.concatenate([batch for _, batch in normalised_batches(pixels, recipe, batch_size)])
    session.run(None, {name: preloaded[:batch_size]})  # warm-up
    started = time.perf_counter()
    for start in range(0, len(preloaded), batch_size):
        session.run(None, {name: preloaded[start : start + batch_size]})
    return len(preloaded) / (time.perf_counter() - started)


def torch_limit(predictor, recipe: Recipe, batch_size: int, batches: int) -> float:
    """The forward pass alone on random input already on the device, at the precision the engine settled on."""
    import torch

    inputs = torch.randn(batch_size, 3, recipe.input_size, recipe.input_size, device=predictor.device)
    synchronise = torch.cuda.synchronize if predictor.device.type == "cuda" else (lambda: None)
    predictor.forward(inputs)
    synchronise()
    started = time.perf_counter()
    for _ in range(batches):
        predictor.forward(inputs)
    synchronise()
    return batches * batch_size / (time.perf_counter() - started)


def per_image_pipeline(predictor, root: Path, recipe: Recipe, batch_size: int) -> float:
    """Decode, resize and normalise each image as it comes (one process), batch, run: every run pays decoding."""
    manifest = TestSetManifest.load(root)
    reader = registry.get("testset_reader", manifest.reader)
    started, count, pending = time.perf_counter(), 0, []
    for image in reader.images(root, manifest):
        pending.append(resize_and_crop(image, recipe))
        if len(pending) == batch_size:
            count += _run_pending(predictor, pending, recipe)
    count += _run_pending(predictor, pending, recipe) if pending else 0
    return count / (time.perf_counter() - started)


def _run_pending(predictor, pending: list, recipe: Recipe) -> int:
    ((_, batch),) = normalised_batches(np.stack(pending), recipe, len(pending))
    predictor.predict(batch)
    done = len(pending)
    pending.clear()
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", default="resnet56")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--testset", choices=["imagenet", "cifar10"])
    parser.add_argument("--precision", default="auto", choices=PRECISION_POLICIES)
    args = parser.parse_args()
    is_timm = args.model.startswith("timm:")
    testset = args.testset or ("imagenet" if is_timm and (SHARED_DATA / SUBSET_ARCHIVE).exists() else "cifar10")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        root = import_testset(testset, scratch)
        manifest = TestSetManifest.load(root)
        classes = len(manifest.class_names)
        if is_timm:
            source, format_name = timm_source(args.model, classes, scratch), "timm"
            defaults = Recipe()
        else:
            source, format_name = onnx_source(args.model, scratch), "onnx"
            defaults = Recipe(input_size=32, crop_pct=1.0)
        _, recipe = check_model(format_name, source, classes, {}, defaults)
        options = {"batch_size": args.batch_size, "precision": args.precision, "latency_runs": 0}

        cold = predict(source, format_name, recipe, root, **options)  # builds the pixel cache
        warm = predict(source, format_name, recipe, root, **options)
        ours = manifest.num_examples / warm.seconds["run"]

        predictor = registry.get("model_format", format_name).load(source, recipe, classes)
        pixels = np.asarray(cached_pixels(root, manifest, recipe))
        if is_timm:
            predictor.settle_precision(lambda: (pixels[:256], None), recipe, args.precision)
            limit = torch_limit(predictor, recipe, args.batch_size, max(3, manifest.num_examples // args.batch_size))
        else:
            limit = onnx_limit(source, pixels, recipe, args.batch_size)
        naive = per_image_pipeline(predictor, root, recipe, args.batch_size)

    precision = warm.efficiency["precision"]["precision"]
    images = f"{manifest.num_examples:,} images at {recipe.input_size}px"
    print(f"{args.model} on {testset} ({images}), batch {args.batch_size}")
    print(f"device: {warm.efficiency['machine']['device']} via {warm.provider}, {precision}")
    print(f"limit, the model alone on data in place:     {limit:9,.0f} images/s")
    print(f"ours, predict()'s run, warm pixel cache:       {ours:9,.0f} images/s = {ours / limit:.2f}x the limit")
    print(f"per-image decode pipeline (validate.py-like): {naive:9,.0f} images/s; ours is {ours / naive:.2f}x it")
    print(
        f"cold start, task start to the first batch: {cold.seconds['to_first_batch']:.2f} s building the pixel cache, "
        f"{warm.seconds['to_first_batch']:.2f} s with it"
    )


if __name__ == "__main__":
    main()

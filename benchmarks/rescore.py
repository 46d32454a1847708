"""Re-scoring speed: 1,000 submissions' stored predictions on the 10,000-image CIFAR-10 test set, re-scored
against the clean label set (all metrics, intervals, slices), against a naive per-example Python loop.

    python benchmarks/rescore.py [--submissions 1000]

Goal (issue 3): under 5 seconds for 1,000 submissions on this 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluator.engine.rescoring import from_files, rescore  # noqa: E402
from plugins import registry  # noqa: E402
from plugins.predictions import Predictions, softmax  # noqa: E402
from plugins.testset import LabelSetData, TestSetManifest  # noqa: E402

BUNDLED = Path(__file__).resolve().parent.parent / "evaluator" / "bundled"


def seed_predictions(folder: Path, labels: np.ndarray, count: int) -> dict[int, Path]:
    """Predictions of `count` made-up models of different skill, stored as the worker stores real ones."""
    rng = np.random.default_rng(0)
    files = {}
    for index in range(count):
        logits = rng.normal(size=(len(labels), 10))
        logits[np.arange(len(labels)), labels] += rng.uniform(0.5, 4.0)
        files[index] = folder / f"{index}.npz"
        Predictions.from_probabilities(softmax(logits)).save(files[index])
    return files


def naive_clean_scores(predictions: Predictions, arrays: dict, slices: dict) -> dict:
    """The same headline numbers written as a per-example loop (what vectorising saves)."""
    hits, total, per_slice = 0, 0, {name: [0, 0] for name in slices}
    top1 = predictions.top_classes[:, 0].tolist()
    for i, (target, other, status) in enumerate(
        zip(arrays["targets"].tolist(), arrays["alternative"].tolist(), arrays["status"].tolist(), strict=True)
    ):
        if status in (3, 4):
            continue
        right = top1[i] == target or top1[i] == other
        hits, total = hits + right, total + 1
        for name, mask in slices.items():
            if mask[i]:
                per_slice[name][0] += right
                per_slice[name][1] += 1
    return {"top1": hits / total, "slices": per_slice}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "cifar10"
        manifest = registry.get("testset_reader", "cifar10").import_testset(BUNDLED, root, 1)
        info = manifest.current_label_set("clean")
        labels = LabelSetData.load(root, manifest.current_label_set("original")).targets
        started = time.perf_counter()
        files = seed_predictions(Path(scratch) / "predictions", labels, args.submissions)
        print(f"seeded {len(files)} submissions' predictions in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        rescored = sum(1 for _ in rescore(from_files(files), root, TestSetManifest.load(root), info))
        ours = time.perf_counter() - started

        arrays = LabelSetData.load(root, info).arrays
        slices = {}
        for slicer in registry.names("slicer"):
            slices.update(registry.get("slicer", slicer).slices(root, manifest, LabelSetData.load(root, info)))
        sample = list(files.values())[:5]
        started = time.perf_counter()
        for path in sample:
            naive_clean_scores(Predictions.load(path), arrays, slices)
        naive = (time.perf_counter() - started) / len(sample) * len(files)

    print(
        f"re-scored {rescored} submissions x {len(labels):,} examples against clean labels "
        f"(all metrics, intervals, {len(slices)} slices): {ours:.2f} s, {ours / rescored * 1000:.1f} ms each"
    )
    print(f"naive per-example loop (headline and slices only), extrapolated from {len(sample)}: {naive:.1f} s")
    print(f"ratio naive / ours: {naive / ours:.1f}x; goal under 5 s: {'met' if ours < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()

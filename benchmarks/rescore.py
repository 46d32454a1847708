"""Re-scoring speed, in two shapes.

    python benchmarks/rescore.py [--submissions 1000]

1,000 submissions' stored predictions on the real 10,000-image CIFAR-10 test set, re-scored against the clean
label set (all metrics, intervals, slices), against a naive per-example Python loop. Goal (issue 3): under 5 s
for 1,000 on this 2-core machine.

    python benchmarks/rescore.py --submissions 1000 --examples 50000 --classes 1000 --changed 0.06

ImageNet's shape: synthetic stored predictions of 50,000 x 1,000, re-scored under a corrected version of the
labels that moves 6% of them (cleanlab's ImageNet corrections touch 2,916 of 50,000), with the bytes read beside
a whole-file re-read of the same files. Goal (issue 12): 1,000 in under 30 s on this machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluator.engine.rescoring import from_files, rescore  # noqa: E402
from plugins import registry  # noqa: E402
from plugins.predictions import Predictions  # noqa: E402
from plugins.testset import LabelSetData, LabelSetInfo, TestSetManifest, add_label_set_version  # noqa: E402

BUNDLED = Path(__file__).resolve().parent.parent / "evaluator" / "bundled"


def seed_predictions(folder: Path, labels: np.ndarray, count: int) -> dict[int, Path]:
    """Predictions of `count` made-up models of different skill, stored as the worker stores real ones."""
    rng = np.random.default_rng(0)
    files = {}
    for index in range(count):
        logits = rng.normal(size=(len(labels), 10))
        logits[np.arange(len(labels)), labels] += rng.uniform(0.5, 4.0)
        files[index] = folder / f"{index}.npz"
        Predictions.from_logits(logits).save(files[index])
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


def synthetic_testset(
    root: Path, examples: int, classes: int, changed: float
) -> tuple[TestSetManifest, np.ndarray, np.ndarray]:
    """An ImageNet-shaped test set of made-up labels (100 superclasses of equal size), each image with a class it
    is easily taken for, and a corrected version of the labels that moves `changed` of the images to that class
    (as cleanlab's corrections do: to the label that annotators, and models, find likelier), as a new version of
    the label set. Returns the manifest with both versions, the original labels and the confusable classes."""
    rng = np.random.default_rng(1)
    targets = rng.integers(0, classes, examples)
    confusable = (targets + rng.integers(1, classes, examples)) % classes
    groups = max(1, classes // 10)
    info = LabelSetInfo("original", "original", 1, "labels/original-v1.npz", "Original labels")
    manifest = TestSetManifest(
        "synthetic",
        1,
        "none",
        examples,
        [f"class {index}" for index in range(classes)],
        [info],
        superclasses={f"group {g}": list(range(g, classes, groups)) for g in range(groups)},
    )
    root.mkdir(parents=True)
    LabelSetData.save(root, info, {"targets": targets})
    manifest.save(root)
    corrected = targets.copy()
    moved = rng.choice(examples, int(round(changed * examples)), replace=False)
    corrected[moved] = confusable[moved]
    manifest, _ = add_label_set_version(root, manifest, "original", {"targets": corrected}, "Corrected labels")
    return manifest, targets, confusable


def seed_synthetic(
    folder: Path, labels: np.ndarray, confusable: np.ndarray, classes: int, count: int, distinct: int
) -> dict[int, Path]:
    """`distinct` made-up models' predictions stored as the worker stores them, hard-linked under `count` names
    (1,000 distinct ImageNet-sized files would need 200 GB of disk): every name is opened, parsed and read as
    its own file."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    originals = []
    rows = np.arange(len(labels))
    for index in range(min(distinct, count)):
        logits = rng.normal(size=(len(labels), classes)).astype(np.float32)
        logits[rows, labels] += rng.uniform(3.5, 5.0)  # top-1 about 60-90%, top-5 85-98%, as ImageNet models
        logits[rows, confusable] += rng.uniform(1.0, 3.0)  # the class an image is easily taken for, by every model
        path = folder / f"model-{index}.npz"
        Predictions.from_logits(logits, overwrite=True).save(path)
        originals.append(path)
    files = {}
    for index in range(count):
        files[index] = folder / f"{index}.npz"
        os.link(originals[index % len(originals)], files[index])
    return files


def imagenet_scale(args) -> None:
    with tempfile.TemporaryDirectory(dir=args.scratch) as scratch:
        root = Path(scratch) / "synthetic"
        manifest, labels, confusable = synthetic_testset(root, args.examples, args.classes, args.changed)
        info = manifest.current_label_set("original")
        started = time.perf_counter()
        files = seed_synthetic(
            Path(scratch) / "predictions", labels, confusable, args.classes, args.submissions, args.distinct
        )
        size = next(iter(files.values())).stat().st_size
        print(
            f"seeded {len(files)} submissions' predictions ({args.examples:,} x {args.classes:,}, {size / 1e6:.1f} MB "
            f"each; {min(args.distinct, len(files))} distinct, hard-linked) in {time.perf_counter() - started:.1f} s"
        )
        changed = int((LabelSetData.load(root, info).targets != labels).sum())
        share = changed / len(labels)
        print(f"label set v{info.version} changes {changed:,} of {args.examples:,} labels ({share:.1%})")

        read = []

        def counted(path: Path):
            def load():
                predictions = Predictions.load(path)
                read.append(predictions)
                return predictions

            return load

        started = time.perf_counter()
        rescored = sum(1 for _ in rescore({i: counted(p) for i, p in files.items()}, root, manifest, info))
        ours = time.perf_counter() - started
        ours_bytes = sum(predictions.bytes_read() for predictions in read)

        sample = list(files.values())[: args.whole_sample]
        started = time.perf_counter()
        for path in sample:
            with path.open("rb") as file:
                while file.read(1 << 24):
                    pass
        whole = (time.perf_counter() - started) / len(sample) * len(files)
        whole_bytes = size * len(files)
        print(f"bytes read: {ours_bytes / 1e9:.2f} GB ({ours_bytes / rescored / 1e6:.1f} MB each)")
        print(
            f"a whole-file re-read of the same files: {whole_bytes / 1e9:.1f} GB, reading alone {whole:.1f} s "
            f"(extrapolated from {len(sample)}); ratio of bytes {whole_bytes / ours_bytes:.0f}x"
        )
        print(f"goal: 1,000 in under 30 s: {'met' if ours < 30 * rescored / 1000 else 'NOT met'}")
        print(f"re-scored {rescored} submissions in {ours:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--examples", type=int, help="a synthetic test set of this many examples (else CIFAR-10)")
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--changed", type=float, default=0.06, help="share of labels the corrected version moves")
    parser.add_argument("--distinct", type=int, default=20, help="distinct prediction files (the rest hard links)")
    parser.add_argument("--whole-sample", type=int, default=10, help="files read whole for the comparison")
    parser.add_argument("--scratch", help="where to seed (default: the system's temporary folder)")
    args = parser.parse_args()
    if args.examples:
        imagenet_scale(args)
    else:
        cifar10(args)


def cifar10(args) -> None:
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
            slices.update(registry.get("slicer", slicer).slices(root, manifest))
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

"""CIFAR-10's test set: images from a tar of per-class JPEGs with an index giving the official order, and
four label sets: the original labels, cleanlab's human-validated clean labels, and CIFAR-10H's plausible
label sets and human label distributions.

The source folder is laid out as the team's shared data is (and as evaluator/bundled is).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from plugins.annotations.cleanlab import clean_label_arrays
from plugins.annotations.human_labels import DEFAULT_PLAUSIBLE_SHARE, plausible_label_arrays, soft_label_arrays
from plugins.checksums import source_checksums
from plugins.registry import register
from plugins.testset import LabelSetData, LabelSetInfo, TestSetManifest

ARCHIVE = "cifar10-test/cifar10_test_jpeg_q75.tar"
INDEX = "cifar10-test/cifar10_test_index.csv"
CLEANLAB_VOTES = "cleanlab-label-errors/cifar10/cifar10_mturk.json"
HUMAN_COUNTS = "cifar-10h/cifar10h-counts.npy"
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
SUPERCLASSES = {"vehicles": [0, 1, 8, 9], "animals": [2, 3, 4, 5, 6, 7]}  # class indices, as in CLASS_NAMES
EXPECTED_COUNT = 10_000
IMAGES = "images.tar"


def _read_index(source: Path) -> tuple[list[str], np.ndarray]:
    with (source / INDEX).open(newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: int(row["test_index"]))
    if [int(row["test_index"]) for row in rows] != list(range(EXPECTED_COUNT)):
        raise ValueError(f"{INDEX} must list test indices 0..{EXPECTED_COUNT - 1} once each")
    for row in rows:
        path_class = row["jpeg_path_in_tar"].split("/")[-2]
        if not (CLASS_NAMES[int(row["label"])] == row["class_name"] == path_class):
            raise ValueError(f"{INDEX} row {row['test_index']}: label, class name and path disagree")
    return [row["jpeg_path_in_tar"] for row in rows], np.array([int(row["label"]) for row in rows], np.int64)


def _label_sets(source: Path, original: np.ndarray) -> list[tuple[LabelSetInfo, dict[str, np.ndarray]]]:
    votes = json.loads((source / CLEANLAB_VOTES).read_text())
    counts = np.load(source / HUMAN_COUNTS, allow_pickle=False)
    if counts.shape != (EXPECTED_COUNT, len(CLASS_NAMES)):
        raise ValueError(f"{HUMAN_COUNTS} has shape {counts.shape}, expected ({EXPECTED_COUNT}, {len(CLASS_NAMES)})")
    share = DEFAULT_PLAUSIBLE_SHARE
    return [
        (LabelSetInfo("original", "original", 1, "labels/original-v1.npz", "Original labels"), {"targets": original}),
        (
            LabelSetInfo("clean", "clean", 1, "labels/clean-v1.npz", "Clean labels (cleanlab, human-validated)"),
            clean_label_arrays(original, votes),
        ),
        (
            LabelSetInfo(
                "plausible",
                "multilabel",
                1,
                "labels/plausible-v1.npz",
                f"Plausible labels (CIFAR-10H, chosen by at least {share:.0%} of annotators)",
                {"plausible_share": share},
            ),
            plausible_label_arrays(counts, share),
        ),
        (
            LabelSetInfo("human", "soft", 1, "labels/human-v1.npz", "Human label distribution (CIFAR-10H)"),
            soft_label_arrays(counts),
        ),
    ]


@register("testset_reader")
class Cifar10Reader:
    name = "cifar10"
    source_files = (ARCHIVE, INDEX, CLEANLAB_VOTES, HUMAN_COUNTS)

    def fingerprint(self, source: Path, images: Path | None = None) -> dict[str, str]:
        return source_checksums(source, self.source_files)

    def import_testset(self, source: Path, dest: Path, version: int, images: Path | None = None) -> TestSetManifest:
        if images is not None:
            raise ValueError("CIFAR-10's images come from its source folder; --images is for ImageNet")
        members, original = _read_index(source)
        with tarfile.open(source / ARCHIVE) as archive:
            missing = set(members) - set(archive.getnames())
        if missing:
            raise ValueError(f"{ARCHIVE} lacks {len(missing)} images listed in {INDEX}, e.g. {sorted(missing)[0]}")
        label_sets = _label_sets(source, original)
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / ARCHIVE, dest / IMAGES)
        (dest / "members.json").write_text(json.dumps(members))
        for info, arrays in label_sets:
            LabelSetData.save(dest, info, arrays)
        manifest = TestSetManifest(
            name="cifar10",
            version=version,
            reader=self.name,
            num_examples=len(members),
            class_names=CLASS_NAMES,
            label_sets=[info for info, _ in label_sets],
            source=self.fingerprint(source),
            default_preprocessing={"input_size": 32, "crop_pct": 1.0},
            superclasses=SUPERCLASSES,
        )
        manifest.save(dest)
        return manifest

    def images(self, root: Path, manifest: TestSetManifest) -> Iterator[Image.Image]:
        members = json.loads((root / "members.json").read_text())
        with tarfile.open(root / IMAGES) as archive:
            for member in members:
                data = archive.extractfile(member).read()
                yield Image.open(io.BytesIO(data)).convert("RGB")

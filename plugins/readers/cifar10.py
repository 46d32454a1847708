"""CIFAR-10's test set from a tar of per-class JPEGs plus an index CSV giving the official order."""

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

from plugins.checksums import source_checksums
from plugins.registry import register
from plugins.testset import LabelSetInfo, TestSetManifest

ARCHIVE = "cifar10_test_jpeg_q75.tar"
INDEX = "cifar10_test_index.csv"
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
EXPECTED_COUNT = 10_000


def _read_index(source: Path) -> tuple[list[str], np.ndarray]:
    with (source / INDEX).open(newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: int(row["test_index"]))
    if [int(row["test_index"]) for row in rows] != list(range(EXPECTED_COUNT)):
        raise ValueError(f"{INDEX} must list test indices 0..{EXPECTED_COUNT - 1} once each")
    for row in rows:
        if (
            CLASS_NAMES[int(row["label"])] != row["class_name"]
            or f"/{row['class_name']}/" not in row["jpeg_path_in_tar"]
        ):
            raise ValueError(f"{INDEX} row {row['test_index']}: label, class name and path disagree")
    return [row["jpeg_path_in_tar"] for row in rows], np.array([int(row["label"]) for row in rows], np.int64)


@register("testset_reader", "cifar10")
class Cifar10Reader:
    name = "cifar10"
    source_files = (ARCHIVE, INDEX)

    def import_testset(self, source: Path, dest: Path, version: int) -> TestSetManifest:
        members, labels = _read_index(source)
        with tarfile.open(source / ARCHIVE) as archive:
            missing = set(members) - set(archive.getnames())
        if missing:
            raise ValueError(f"{ARCHIVE} lacks {len(missing)} images listed in {INDEX}, e.g. {sorted(missing)[0]}")
        (dest / "labels").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / ARCHIVE, dest / ARCHIVE)
        (dest / "members.json").write_text(json.dumps(members))
        np.save(dest / "labels" / "original-v1.npy", labels)
        manifest = TestSetManifest(
            name="cifar10",
            version=version,
            reader=self.name,
            num_examples=len(members),
            class_names=CLASS_NAMES,
            label_sets=[LabelSetInfo("original", "original", 1, "labels/original-v1.npy")],
            default_preprocessing={"input_size": 32, "crop_pct": 1.0},
            source=source_checksums(source, self.source_files),
        )
        manifest.save(dest)
        return manifest

    def images(self, root: Path, manifest: TestSetManifest) -> Iterator[Image.Image]:
        members = json.loads((root / "members.json").read_text())
        with tarfile.open(root / ARCHIVE) as archive:
            for member in members:
                data = archive.extractfile(member).read()
                yield Image.open(io.BytesIO(data)).convert("RGB")

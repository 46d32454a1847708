"""Joining ImageNet val's published annotations by official file name (ILSVRC2012_val_00000293.JPEG <-> 293).

Each source numbers images its own way, which is where joins go wrong: ReaL's real.json is a list whose
entry i is val file i + 1; cleanlab's imagenet_mturk.json gives the val file number as `id` (not an index
into its own arrays, which follow a class-sorted order); ImageNet-X and the imagenet-mistakes files name the
file. Everything here takes the test set's val file numbers, in the test set's order, and returns arrays in
that order.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from pathlib import Path

import numpy as np

from plugins.annotations.cleanlab import clean_label_arrays

NUM_CLASSES = 1000
IMAGENET_X_FACTORS = (
    "multiple_objects",
    "background",
    "color",
    "brighter",
    "darker",
    "style",
    "larger",
    "smaller",
    "object_blocking",
    "person_blocking",
    "partial_view",
    "pattern",
    "pose",
    "shape",
    "subcategory",
    "texture",
)
SEVERITIES = ("Major", "Minor", "Borderline")
_NAME = re.compile(r"ILSVRC2012_val_(\d{8})\.JPEG", re.IGNORECASE)


def val_number(file_name: str) -> int:
    """'ILSVRC2012_val_00000293.JPEG' (any folder, any case of the extension) -> 293."""
    match = _NAME.search(file_name)
    if not match:
        raise ValueError(f"{file_name!r} is not an ILSVRC2012 val file name")
    return int(match.group(1))


def val_file_name(number: int) -> str:
    return f"ILSVRC2012_val_{number:08d}.JPEG"


def original_labels(ground_truth_json: Path, numbers: list[int]) -> np.ndarray:
    """int64 [N] official labels, from {"ILSVRC2012_val_XXXXXXXX.JPEG": label}."""
    by_name = json.loads(ground_truth_json.read_text())
    return np.array([by_name[val_file_name(number)] for number in numbers], np.int64)


def real_label_sets(real_json: Path, numbers: list[int]) -> np.ndarray:
    """bool [N, 1000]: ReaL's plausible labels (Beyer et al. 2020); entry i of real.json is val file i + 1."""
    lists = json.loads(real_json.read_text())
    plausible = np.zeros((len(numbers), NUM_CLASSES), bool)
    for row, number in enumerate(numbers):
        plausible[row, lists[number - 1]] = True
    return plausible


def clean_labels(original: np.ndarray, mturk_json: Path, numbers: list[int]) -> dict[str, np.ndarray]:
    """cleanlab's validated label errors for these images (their `id` is the val file number)."""
    index_of = {number: row for row, number in enumerate(numbers)}
    records = [record for record in json.loads(mturk_json.read_text()) if record["id"] in index_of]
    return clean_label_arrays(original, records, index_of)


def imagenet_x_factors(
    top_factor_jsonl_gz: Path, multi_factor_jsonl_gz: Path, numbers: list[int]
) -> dict[str, np.ndarray]:
    """ImageNet-X (Idrissi et al. 2022): top_factor int8 [N] (index into IMAGENET_X_FACTORS, -1 where the
    image was not annotated) and factors bool [N, 16] (every factor an annotator marked)."""
    index_of = {number: row for row, number in enumerate(numbers)}
    top = np.full(len(numbers), -1, np.int8)
    factors = np.zeros((len(numbers), len(IMAGENET_X_FACTORS)), bool)
    for path, multi in ((top_factor_jsonl_gz, False), (multi_factor_jsonl_gz, True)):
        with gzip.open(path, "rt") as lines:
            for line in lines:
                record = json.loads(line)
                row = index_of.get(val_number(record["file_name"]))
                if row is None:
                    continue
                marked = [record[name] == 1 for name in IMAGENET_X_FACTORS]
                if multi:
                    factors[row] = marked
                elif any(marked):
                    top[row] = marked.index(True)
    return {"top_factor": top, "factors": factors}


def mistake_categories(mistakes_json: Path, numbers: list[int]) -> tuple[dict[str, np.ndarray], list[str]]:
    """imagenet-mistakes (Vasudevan et al. 2022): category int8 [N] (-1: the model got it right) and severity
    int8 [N] (index into SEVERITIES, -1 likewise); returns the category names too."""
    index_of = {number: row for row, number in enumerate(numbers)}
    mistakes = json.loads(mistakes_json.read_text())
    names = sorted({entry["failure category"] for entry in mistakes.values()})
    category, severity = np.full(len(numbers), -1, np.int8), np.full(len(numbers), -1, np.int8)
    for file_name, entry in mistakes.items():
        row = index_of.get(val_number(file_name))
        if row is not None:
            category[row] = names.index(entry["failure category"])
            severity[row] = SEVERITIES.index(entry["failure severity"])
    return {"category": category, "severity": severity}, names


def metaclasses(metaclass_csv: Path) -> dict[str, list[int]]:
    """ImageNet-X's 100 metaclasses: name -> class indices. Row i of the CSV is class i (its wnid column is
    the metaclass's own synset, not the class's)."""
    groups: dict[str, list[int]] = {}
    with metaclass_csv.open(newline="") as handle:
        for class_index, row in enumerate(csv.DictReader(handle)):
            groups.setdefault(row["name"], []).append(class_index)
    if sum(len(members) for members in groups.values()) != NUM_CLASSES:
        raise ValueError(f"{metaclass_csv} must have one row per ImageNet class")
    return groups

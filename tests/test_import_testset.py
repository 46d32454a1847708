"""manage.py import_testset: the real CIFAR-10 files become a hidden test set; the site lists only its metadata."""

from __future__ import annotations

import csv
import shutil
import tarfile
from io import BytesIO, StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from leaderboard.models import LabelSet, TestSet
from plugins.testset import LabelSetData, TestSetManifest, testset_root
from tests.conftest import BUNDLED, BUNDLED_CIFAR10


def copy_of_the_source(dest):
    for folder in ("cifar10-test", "cleanlab-label-errors", "cifar-10h"):
        shutil.copytree(BUNDLED / folder, dest / folder)
    return dest


@pytest.fixture
def fresh_data_dir(settings, tmp_path):
    settings.ZOOBOARD_DATA_DIR = tmp_path / "data"
    return settings.ZOOBOARD_DATA_DIR


def test_it_builds_cifar10_in_the_official_order(db, fresh_data_dir):
    out = StringIO()
    call_command("import_testset", "cifar10", stdout=out)
    assert "cifar10 v1 imported: 10000 examples, 10 classes" in out.getvalue()
    root = testset_root(fresh_data_dir, "cifar10")
    manifest = TestSetManifest.load(root)
    labels = LabelSetData.load(root, manifest.label_sets[0]).targets
    with open(BUNDLED_CIFAR10 / "cifar10_test_index.csv", newline="") as handle:
        expected = [int(row["label"]) for row in csv.DictReader(handle)]
    assert labels.tolist() == expected
    assert labels[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]  # the official test_batch starts so
    assert np.bincount(labels).tolist() == [1000] * 10


def test_the_site_gets_metadata_but_never_labels(db, fresh_data_dir):
    call_command("import_testset", "cifar10", stdout=StringIO())
    testset = TestSet.objects.get(name="cifar10")
    assert testset.num_examples == 10_000 and testset.class_names[3] == "cat"
    assert sorted(LabelSet.objects.values_list("name", "protocol", "version")) == [
        ("clean", "clean", 1),
        ("human", "soft", 1),
        ("original", "original", 1),
        ("plausible", "multilabel", 1),
    ]
    stored = str(TestSet.objects.values().get()) + str(list(LabelSet.objects.values()))
    assert "[3, 8, 8, 0" not in stored


def test_importing_the_same_files_again_changes_nothing(db, fresh_data_dir):
    call_command("import_testset", "cifar10", stdout=StringIO())
    out = StringIO()
    call_command("import_testset", "cifar10", stdout=out)
    assert "already imported" in out.getvalue()
    assert TestSet.objects.get().version == 1
    assert not (fresh_data_dir / "testsets" / "cifar10" / "v2").exists()


def test_changed_source_files_make_a_new_version(db, fresh_data_dir, tmp_path):
    call_command("import_testset", "cifar10", stdout=StringIO())
    changed = copy_of_the_source(tmp_path / "changed")
    with tarfile.open(changed / "cifar10-test" / "cifar10_test_jpeg_q75.tar", "a") as archive:
        note = tarfile.TarInfo("README.txt")
        note.size = 5
        archive.addfile(note, BytesIO(b"hello"))
    call_command("import_testset", "cifar10", "--source", str(changed), stdout=StringIO())
    assert TestSet.objects.get().version == 2
    assert TestSet.objects.get().data_path == "testsets/cifar10/v2"


def test_a_missing_source_is_a_clear_error(db, fresh_data_dir, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_testset", "cifar10", "--source", str(tmp_path / "nowhere"))


def test_an_index_that_disagrees_with_the_archive_is_refused(db, fresh_data_dir, tmp_path):
    broken = copy_of_the_source(tmp_path / "broken")
    index_path = broken / "cifar10-test" / "cifar10_test_index.csv"
    index_path.write_text(index_path.read_text().replace("0,3,cat,test/cat/0000.jpg", "0,3,dog,test/cat/0000.jpg"))
    with pytest.raises(CommandError, match="row 0: label, class name and path disagree"):
        call_command("import_testset", "cifar10", "--source", str(broken))
    assert not TestSet.objects.exists()


def test_an_unknown_reader_is_named(db):
    with pytest.raises(CommandError, match="no test-set reader named 'mnist'"):
        call_command("import_testset", "mnist")

"""Importing a hidden test set on a worker host and listing it on the site."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from leaderboard import ranking
from leaderboard.models import LabelSet, TestSet
from plugins import registry
from plugins.testset import TestSetManifest, testset_root

TITLES = {"cifar10": "CIFAR-10 test set (JPEG q75)", "imagenet": "ImageNet validation set"}


def import_testset(reader_name: str, source: Path, images: Path | None = None) -> tuple[TestSet, bool]:
    """Builds the test set from source unless the newest version was built from the same files.

    Returns the test set row and whether a new version was written.
    """
    reader = registry.get("testset_reader", reader_name)
    try:
        previous = TestSetManifest.load(testset_root(settings.ZOOBOARD_DATA_DIR, reader_name))
    except FileNotFoundError:
        previous = None
    if previous and previous.source == reader.fingerprint(source, images):
        return _register(previous, reader_name), False
    version = previous.version + 1 if previous else 1
    manifest = reader.import_testset(
        source, testset_root(settings.ZOOBOARD_DATA_DIR, reader_name, version), version, images
    )
    return _register(manifest, reader_name), True


def _register(manifest: TestSetManifest, reader_name: str) -> TestSet:
    data_path = f"testsets/{manifest.name}/v{manifest.version}"
    with transaction.atomic():
        testset, _ = TestSet.objects.update_or_create(
            name=manifest.name,
            defaults={
                "title": TITLES.get(manifest.name, manifest.name),
                "version": manifest.version,
                "reader": reader_name,
                "class_names": manifest.class_names,
                "num_examples": manifest.num_examples,
                "data_path": data_path,
                "default_preprocessing": manifest.default_preprocessing,
            },
        )
        sync_label_sets(testset, manifest)
    return testset


def sync_label_sets(testset: TestSet, manifest: TestSetManifest) -> None:
    """Lists every label set version of the manifest on the site; the newest of each name is current."""
    for info in manifest.label_sets:
        LabelSet.objects.update_or_create(
            testset=testset,
            name=info.name,
            version=info.version,
            defaults={"protocol": info.protocol, "title": info.title},
        )
    for info in manifest.current_label_sets():
        testset.label_sets.filter(name=info.name).exclude(version=info.version).update(is_current=False)
        testset.label_sets.filter(name=info.name, version=info.version).update(is_current=True)
    ranking.testset_changed(testset)

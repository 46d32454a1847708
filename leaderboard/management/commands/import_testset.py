"""manage.py import_testset NAME [--source DIR]: builds a hidden test set from real files, on a worker host."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from leaderboard.importing import import_testset
from plugins import registry

# Annotations for both are bundled; ImageNet's images are not (--images, or a source with the 1,300-image tar).
BUNDLED_SOURCE = settings.BASE_DIR / "evaluator" / "bundled"


class Command(BaseCommand):
    help = "Import a hidden test set (default source: the copy bundled in the repository)."

    def add_arguments(self, parser):
        parser.add_argument("name", help=f"a test-set reader: {', '.join(registry.names('testset_reader'))}")
        parser.add_argument("--source", type=Path, help="folder with the raw files, laid out as shared/data")
        parser.add_argument("--images", type=Path, help="ImageNet val images: a folder (flat or class folders) or tar")

    def handle(self, name, source, images, **options):
        if name not in registry.names("testset_reader"):
            raise CommandError(
                f"no test-set reader named {name!r}; known: {', '.join(registry.names('testset_reader'))}"
            )
        source = source or BUNDLED_SOURCE
        if not source.is_dir():
            raise CommandError(f"source folder {source} does not exist; pass --source DIR")
        try:
            testset, created = import_testset(name, source, images)
        except (ValueError, FileNotFoundError) as error:
            raise CommandError(f"cannot import {name} from {source}: {error}") from None
        verb = "imported" if created else "already imported (same source files)"
        self.stdout.write(
            f"{testset.name} v{testset.version} {verb}: {testset.num_examples} examples, "
            f"{testset.num_classes} classes, in {settings.ZOOBOARD_DATA_DIR / testset.data_path}"
        )

"""manage.py import_labelset TESTSET NAME FILE.npz: a corrected version of a label set, on a worker host."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from leaderboard.importing import sync_label_sets
from leaderboard.models import TestSet
from plugins.testset import TestSetManifest, add_label_set_version, testset_root


class Command(BaseCommand):
    help = "Add the next version of a label set from an .npz with the same arrays as the current version."

    def add_arguments(self, parser):
        parser.add_argument("testset")
        parser.add_argument("name", help="the label set, e.g. clean")
        parser.add_argument("file", type=Path, help=".npz with the label set's arrays")
        parser.add_argument("--title", default="")

    def handle(self, testset, name, file, title, **options):
        try:
            row = TestSet.objects.get(name=testset)
            root = testset_root(settings.ZOOBOARD_DATA_DIR, row.name, row.version)
            with np.load(file, allow_pickle=False) as stored:
                arrays = {key: stored[key] for key in stored.files}
            manifest, info = add_label_set_version(root, TestSetManifest.load(root), name, arrays, title)
        except (TestSet.DoesNotExist, OSError, ValueError) as error:
            raise CommandError(f"cannot import {file} as {testset}/{name}: {error}") from None
        sync_label_sets(row, manifest)
        self.stdout.write(
            f"{testset}/{name} v{info.version} imported and current; "
            f"run manage.py rescore --testset {testset} --labelset {name}"
        )

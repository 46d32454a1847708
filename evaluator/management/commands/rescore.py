"""manage.py rescore --labelset NAME [--testset T] [--labelset-version N]: re-score stored predictions (worker host)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from evaluator.tasks import rescore_label_set
from leaderboard.models import TestSet


class Command(BaseCommand):
    help = "Re-score every done submission's stored predictions against a label set version; older results stay."

    def add_arguments(self, parser):
        parser.add_argument("--labelset", required=True, help="e.g. clean")
        parser.add_argument("--testset", default="cifar10")
        parser.add_argument("--labelset-version", dest="labelset_version", type=int, help="default: the newest")

    def handle(self, labelset, testset, labelset_version, **options):
        try:
            outcome = rescore_label_set(testset, labelset, labelset_version)
        except (LookupError, TestSet.DoesNotExist, FileNotFoundError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"re-scored {outcome['rescored']} submissions against {outcome['label_set']} "
            f"v{outcome['version']} in {outcome['seconds']} s"
            + (
                f"; {outcome['without_predictions']} had no stored predictions"
                if outcome["without_predictions"]
                else ""
            )
        )

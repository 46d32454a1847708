"""manage.py submit FILE --user NAME --testset NAME: queue a model as that user, as the API would."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from leaderboard.models import TestSet
from leaderboard.submitting import create_submission
from plugins.checksums import file_sha256
from plugins.errors import SubmissionError


class Command(BaseCommand):
    help = "Submit a model file for evaluation through the queue."

    def add_arguments(self, parser):
        parser.add_argument("model", type=Path)
        parser.add_argument("--user", required=True)
        parser.add_argument("--testset", required=True)
        parser.add_argument("--name", default="", help="default: the model's zooboard.name metadata")
        parser.add_argument("--format", default="onnx")
        parser.add_argument("--preprocessing", default="{}", help="recipe values as JSON")
        parser.add_argument("--once", action="store_true", help="skip a file this user already submitted")

    def handle(self, model, user, testset, name, format, preprocessing, once, **options):
        try:
            owner = get_user_model().objects.get(username=user)
            target = TestSet.objects.get(name=testset)
            if once and self._already_submitted(owner, target, model):
                return
            submission = create_submission(owner, target, name, format, model, json.loads(preprocessing))
        except (get_user_model().DoesNotExist, TestSet.DoesNotExist, SubmissionError, ValueError) as error:
            raise CommandError(f"cannot submit {model}: {error}") from None
        self.stdout.write(f"submission {submission.pk} queued: {submission.name}")

    def _already_submitted(self, owner, testset, model: Path) -> bool:
        """For re-runs of `make demo`: the same file already queued or done for this user is left alone."""
        live = owner.submissions.filter(testset=testset, model_sha256=file_sha256(model)).exclude(
            status__in=["failed", "cancelled"]
        )
        if live.exists():
            self.stdout.write(f"{model}: already submitted (submission {live.first().pk})")
            return True
        return False

"""manage.py submit MODEL --user NAME --testset NAME: queue a model as that user, as the API would."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from leaderboard.models import CARD_FIELDS, TestSet
from leaderboard.submitting import create_submission
from plugins.checksums import file_sha256
from plugins.contracts import ModelSource
from plugins.errors import SubmissionError
from plugins.submission_check import source_from_argument


class Command(BaseCommand):
    help = "Submit a model (a file or an identifier such as timm:resnet18) for evaluation through the queue."

    def add_arguments(self, parser):
        parser.add_argument("model", help="a model file, or an identifier such as timm:resnet18.a1_in1k")
        parser.add_argument("--weights", type=Path, help="safetensors weights for an identifier")
        parser.add_argument("--user", required=True)
        parser.add_argument("--testset", required=True)
        parser.add_argument("--name", default="", help="default: the model's own name")
        parser.add_argument("--format", default="", help="default: from the identifier, else onnx")
        parser.add_argument("--preprocessing", default="{}", help="recipe values as JSON")
        parser.add_argument("--once", action="store_true", help="skip a file this user already submitted")
        parser.add_argument("--architecture", default="", help="architecture family, e.g. resnet")
        parser.add_argument("--description", default="")
        parser.add_argument("--paper-url", default="")
        parser.add_argument("--code-url", default="")
        parser.add_argument("--licence", default="", help="of the weights, e.g. Apache-2.0")

    def handle(self, model, weights, user, testset, name, format, preprocessing, once, **options):
        try:
            owner = get_user_model().objects.get(username=user)
            target = TestSet.objects.get(name=testset)
            source = source_from_argument(model, weights)
            if once and self._already_submitted(owner, target, source):
                return
            recipe = json.loads(preprocessing)
            card = {field: options[field] for field in CARD_FIELDS if options.get(field)}
            submission = create_submission(owner, target, name, source, recipe, format, card)
        except (get_user_model().DoesNotExist, TestSet.DoesNotExist, SubmissionError, ValueError) as error:
            raise CommandError(f"cannot submit {model}: {error}") from None
        self.stdout.write(f"submission {submission.pk} queued: {submission.name}")

    def _already_submitted(self, owner, testset, source: ModelSource) -> bool:
        """For re-runs of `make demo`: the same model already queued or done for this user is left alone."""
        live = owner.submissions.filter(testset=testset, model_identifier=source.identifier)
        if source.file is not None:
            live = live.filter(model_sha256=file_sha256(source.file))
        live = live.exclude(status__in=["failed", "cancelled"])
        if live.exists():
            self.stdout.write(f"{source.file or source.identifier}: already submitted (submission {live.first().pk})")
            return True
        return False

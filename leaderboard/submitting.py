"""Creating a submission: check the model, store it, queue it. Shared by the form, the API and `manage.py submit`."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction

from leaderboard.models import Submission, TestSet
from leaderboard.queue import enqueue_evaluation
from plugins.checksums import file_sha256
from plugins.errors import SubmissionError
from plugins.recipe import Recipe
from plugins.submission_check import check_model


def create_submission(
    owner, testset: TestSet, name: str, model_format: str, model_path: Path, preprocessing: dict, description: str = ""
) -> Submission:
    """Raises SubmissionError (nothing stored, nothing queued) when the model or its preprocessing is wrong."""
    size_mb = model_path.stat().st_size / 2**20
    if size_mb > settings.ZOOBOARD_MAX_UPLOAD_MB:
        raise SubmissionError(f"the model file is {size_mb:.0f} MB; the limit is {settings.ZOOBOARD_MAX_UPLOAD_MB} MB")
    info, recipe = check_model(
        model_format, model_path, testset.num_classes, preprocessing, Recipe.from_dict(testset.default_preprocessing)
    )
    name = name.strip() or info.recipe_from_model.get("zooboard.name", "").strip()
    if not name:
        raise SubmissionError("give the model a name")
    with transaction.atomic():
        submission = Submission(
            owner=owner,
            testset=testset,
            name=name[:200],
            description=description,
            model_format=model_format,
            preprocessing=recipe.to_dict(),
            model_sha256=file_sha256(model_path),
            model_details=info.details,
            progress_total=testset.num_examples,
        )
        with model_path.open("rb") as handle:
            submission.model_file.save("model", File(handle), save=False)
        submission.save()
        transaction.on_commit(lambda: enqueue_evaluation(submission.pk))
    return submission

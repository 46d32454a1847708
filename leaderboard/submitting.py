"""Creating a submission: check the model, store it, queue it. Shared by the form, the API and `manage.py submit`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction

from leaderboard import quotas
from leaderboard.models import CARD_FIELDS, Submission, TestSet
from leaderboard.queue import enqueue_evaluation
from plugins import registry
from plugins.checksums import file_sha256
from plugins.contracts import ModelSource
from plugins.errors import SubmissionError
from plugins.recipe import Recipe, recipe_sources
from plugins.submission_check import check_model, format_for


def check_size(source: ModelSource) -> None:
    if source.file is None:
        return
    size = source.file.stat().st_size
    if size > settings.ZOOBOARD_MAX_UPLOAD_MB * 2**20:
        raise SubmissionError(
            f"the model file is {size / 2**20:.2f} MB; the limit is {settings.ZOOBOARD_MAX_UPLOAD_MB} MB"
        )


def create_submission(
    owner,
    testset: TestSet,
    name: str,
    source: ModelSource,
    preprocessing: dict,
    model_format: str = "",
    card: dict | None = None,
) -> Submission:
    """Raises SubmissionError (nothing stored, nothing queued) when the model, its preprocessing or its card
    (CARD_FIELDS: the submitter's description, links, licence and architecture family) is wrong, and its
    SubmissionRefused when a quota, the in-flight cap or the duplicate check says no."""
    card = checked_card(card or {})
    if source.file is None and not source.identifier:
        raise SubmissionError("upload a model file or give a model identifier such as timm:resnet18")
    check_size(source)
    quotas.check_limits(owner, testset)  # unlocked and cheap: a flood is refused before the costly model check
    model_format = format_for(source, model_format)
    info, recipe = check_model(
        model_format, source, testset.num_classes, preprocessing, Recipe.from_dict(testset.default_preprocessing)
    )
    name = name.strip() or info.name or source.identifier
    if not name:
        raise SubmissionError("give the model a name")
    submission = Submission(
        owner=owner,
        testset=testset,
        name=name[:200],
        **{**card, "architecture": card.get("architecture") or info.family[:100]},
        model_format=model_format,
        model_identifier=source.identifier,
        preprocessing=recipe.to_dict(),
        model_sha256=file_sha256(source.file) if source.file else "",
        model_details={
            **info.details,
            "preprocessing_sources": recipe_sources(
                preprocessing, info.recipe_from_model, testset.default_preprocessing
            ),
        },
        progress_total=testset.num_examples,
    )
    _store(submission, source)
    return submission


def checked_card(card: dict) -> dict:
    """The model card's values, stripped and checked by the model's own fields (lengths, web addresses only);
    SubmissionError names the first one that is wrong."""
    unknown = set(card) - set(CARD_FIELDS)
    if unknown:
        fields = ", ".join(CARD_FIELDS)
        raise SubmissionError(f"a model card has no field {sorted(unknown)[0]!r} (its fields: {fields})")
    values = {name: str(value or "").strip() for name, value in card.items()}
    try:
        Submission(**values).clean_fields(exclude=[f.name for f in Submission._meta.fields if f.name not in values])
    except ValidationError as error:
        name, messages = next(iter(error.message_dict.items()))
        raise SubmissionError(f"{name}: {' '.join(messages)}") from None
    return values


def _store(submission: Submission, source: ModelSource) -> None:
    """Counts, stores and queues under a lock on the owner's row, so that concurrent submits of one user cannot
    all pass the limits; the model file is deleted again when the row does not commit."""
    committed = []
    try:
        with transaction.atomic():
            quotas.lock_owner(submission.owner)
            quotas.check_limits(submission.owner, submission.testset)
            quotas.check_duplicate(submission)
            if source.file is not None:
                suffix = registry.get("model_format", submission.model_format).file_suffix
                with source.file.open("rb") as handle:
                    submission.model_file.save(f"model{suffix}", File(handle), save=False)
            submission.save()
            # on_commit callbacks run in order, after the commit: the flag says the row (and its file) is kept
            transaction.on_commit(lambda: committed.append(True))
            transaction.on_commit(lambda: enqueue_evaluation(submission))
    except BaseException:
        if submission.model_file and not committed:
            submission.model_file.delete(save=False)
        raise

"""The Celery task: the one place that knows both the database and the engine. Thin on purpose."""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from config.celery import EVALUATE_TASK, RESCORE_TASK
from evaluator.engine.evaluation import predict, score
from evaluator.engine.rescoring import rescore
from leaderboard.models import InvalidTransition, Result, Status, Submission, TestSet
from plugins.contracts import ModelSource
from plugins.errors import SubmissionError
from plugins.recipe import Recipe
from plugins.testset import TestSetManifest, testset_root

log = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 1.0
DEVICE_BROKEN_EXIT_STATUS = 70  # EX_SOFTWARE


class Cancelled(Exception):
    """The submission left the running state while it ran (cancelled by its owner or an admin)."""


def predictions_path(submission_id: int) -> Path:
    return settings.ZOOBOARD_DATA_DIR / "predictions" / f"{submission_id}.npz"


@shared_task(name=EVALUATE_TASK)
def evaluate_submission(submission_id: int) -> None:
    submission = Submission.objects.select_related("testset").filter(pk=submission_id).first()
    if submission is None:
        log.warning("submission %s no longer exists", submission_id)
        return
    if submission.status in (Status.RUNNING, Status.SCORING):
        # delivered again after the worker running it died (acks_late): do not run the same model into it again
        submission.move_to(
            Status.FAILED,
            error_message="the worker stopped while evaluating this model "
            "(it may have crashed or run out of memory); the operators were told",
        )
        log.error("submission %s was interrupted by a lost worker", submission_id)
        return
    if submission.status != Status.QUEUED:
        return  # cancelled (or finished) before a worker got to it
    submission.move_to(Status.RUNNING, progress_done=0)
    try:
        _run(submission)
    except Cancelled:
        log.info("submission %s was cancelled while running", submission_id)
    except SubmissionError as error:
        _fail(submission, str(error))
    except SoftTimeLimitExceeded:
        _fail(submission, f"the evaluation took longer than the limit of {settings.ZOOBOARD_SOFT_TIME_LIMIT} seconds")
    except Exception as error:
        error_id = uuid.uuid4().hex[:12]
        log.exception("internal error %s while evaluating submission %s", error_id, submission_id)
        _fail(submission, f"internal error, the operators were told (id {error_id})")
        if _breaks_the_device(error):
            # every later task in this process would fail the same way: leave, and Celery starts a fresh one
            # (the message comes back once, finds the submission failed and does nothing)
            log.critical("submission %s left this process's GPU context broken; the process exits", submission_id)
            os._exit(DEVICE_BROKEN_EXIT_STATUS)


def _breaks_the_device(error: Exception) -> bool:
    """A CUDA error other than out-of-memory (torch's AcceleratorError) leaves the process's context unusable."""
    torch = sys.modules.get("torch")  # not imported here: a process that never loaded torch has no such error
    return torch is not None and isinstance(error, getattr(torch, "AcceleratorError", ()))


def _fail(submission: Submission, message: str) -> None:
    try:
        submission.move_to(Status.FAILED, error_message=message)
    except InvalidTransition:  # cancelled meanwhile: the cancellation stands
        log.info("submission %s failed after leaving the running state: %s", submission.pk, message)


def _run(submission: Submission) -> None:
    root = testset_root(settings.ZOOBOARD_DATA_DIR, submission.testset.name, submission.testset.version)
    recipe = Recipe.from_dict(submission.preprocessing)
    source = ModelSource(
        Path(submission.model_file.path) if submission.model_file else None, submission.model_identifier
    )
    evaluation = predict(
        source,
        submission.model_format,
        recipe,
        root,
        predictions_path=predictions_path(submission.pk),
        batch_size=settings.ZOOBOARD_BATCH_SIZE,
        on_progress=_progress_reporter(submission.pk),
        precision=settings.ZOOBOARD_PRECISION,
        latency_runs=settings.ZOOBOARD_LATENCY_RUNS,
    )
    submission.move_to(
        Status.SCORING,
        progress_done=submission.progress_total,
        provider=evaluation.provider,
        efficiency=evaluation.efficiency,
    )
    score(evaluation, root, settings.ZOOBOARD_MIN_SLICE)
    Result.objects.store(submission, evaluation.scores)
    submission.move_to(Status.DONE, timings={key: round(value, 3) for key, value in evaluation.seconds.items()})


def _progress_reporter(submission_id: int):
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_SECONDS and done < total:
            return
        last[0] = now
        # one UPDATE both records progress and notices a cancellation
        if not Submission.objects.filter(pk=submission_id, status=Status.RUNNING).update(progress_done=done):
            raise Cancelled()

    return report


@shared_task(name=RESCORE_TASK)
def rescore_label_set(testset_name: str, label_set_name: str, version: int | None = None) -> dict:
    """Re-scores every done submission's stored predictions against a label set version (default: newest).

    Results for other versions are kept; the leaderboard shows the current version by default.
    """
    started = time.perf_counter()
    testset = TestSet.objects.get(name=testset_name)
    root = testset_root(settings.ZOOBOARD_DATA_DIR, testset.name, testset.version)
    manifest = TestSetManifest.load(root)
    info = manifest.current_label_set(label_set_name, version)
    if info is None:
        raise LookupError(
            f"test set {testset_name} has no label set {label_set_name!r}" + (f" version {version}" if version else "")
        )
    done = Submission.objects.filter(testset=testset, status=Status.DONE).select_related("testset")
    submissions = {submission.pk: submission for submission in done}
    files = {pk: predictions_path(pk) for pk in submissions}
    count = 0
    for submission_id, scores in rescore(files, root, manifest, info, settings.ZOOBOARD_MIN_SLICE):
        Result.objects.store(submissions[submission_id], {info.name: scores})
        count += 1
    seconds = time.perf_counter() - started
    log.info(
        "re-scored %d submissions against %s/%s v%d in %.1f s", count, testset_name, info.name, info.version, seconds
    )
    return {
        "label_set": info.name,
        "version": info.version,
        "rescored": count,
        "without_predictions": len(submissions) - count,
        "seconds": round(seconds, 2),
    }

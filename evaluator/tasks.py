"""The Celery task: the one place that knows both the database and the engine. Thin on purpose."""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import uuid
from functools import partial
from importlib import import_module
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.celery import EVALUATE_TASK, EXPORTS_TASK, HOUSEKEEPING_TASK, RESCORE_TASK
from evaluator import (
    stored,
    worker_life,  # noqa: F401  (the reaper thread and the pool processes' death signal)
)
from evaluator.database import CONNECTION_ERRORS, fresh_connection, retrying
from evaluator.engine.evaluation import predict, score
from evaluator.engine.rescoring import rescore
from evaluator.lease import Cancelled, LeaseLost, Watchdog, too_slow
from leaderboard import board_cache, ranking
from leaderboard.models import ApiToken, Result, Status, Submission, TestSet
from leaderboard.models.submissions import Claim, fail
from plugins.contracts import ModelSource
from plugins.errors import SubmissionError
from plugins.recipe import Recipe
from plugins.testset import TestSetManifest, testset_root

log = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 1.0
DEVICE_BROKEN_EXIT_STATUS = 70  # EX_SOFTWARE


def pixel_cache_dir(testset_name: str, root: Path) -> Path | None:
    """Where this worker keeps a test set's decoded pixels: ZOOBOARD_CACHE_DIR if set; else beside the test set
    (None), unless the test sets are mounted read-only, then in this host's own ZOOBOARD_VAR_DIR."""
    if settings.ZOOBOARD_CACHE_DIR:
        return Path(settings.ZOOBOARD_CACHE_DIR) / testset_name
    if os.access(root, os.W_OK):
        return None
    return Path(settings.VAR_DIR) / "pixel-cache" / testset_name


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@shared_task(name=EVALUATE_TASK)
def evaluate_submission(submission_id: int) -> None:
    """Evaluates the submission if this delivery can claim it (exactly once: see Claim and evaluator/reaper.py)."""
    attempt = retrying(
        lambda: Claim.take(
            submission_id, worker_name(), settings.ZOOBOARD_LEASE_SECONDS, settings.ZOOBOARD_MAX_ATTEMPTS
        ),
        f"claiming submission {submission_id}",
    )
    if attempt is None:
        return  # finished, cancelled, or held by a live lease elsewhere: a repeated delivery
    submission = Submission.objects.select_related("testset").get(pk=submission_id)
    log.info("submission %s: attempt %s on %s", submission_id, attempt, worker_name())
    watchdog = Watchdog(submission_id, attempt, settings.ZOOBOARD_LEASE_SECONDS, settings.ZOOBOARD_SOFT_TIME_LIMIT)
    with watchdog:
        try:
            _run(submission, attempt, watchdog.stopper)
        except (Cancelled, LeaseLost) as stop:
            log.info("submission %s attempt %s stopped: %s", submission_id, attempt, type(stop).__name__)
        except SubmissionError as error:
            _fail(submission_id, attempt, str(error))
        except SoftTimeLimitExceeded:
            _fail(submission_id, attempt, str(too_slow(settings.ZOOBOARD_SOFT_TIME_LIMIT)))
        except Exception as error:
            error_id = uuid.uuid4().hex[:12]
            log.exception("internal error %s while evaluating submission %s", error_id, submission_id)
            if isinstance(error, CONNECTION_ERRORS):
                return  # the database stayed away: the lease runs out and the reaper queues it again
            _fail(submission_id, attempt, f"internal error, the operators were told (id {error_id})")
            if _breaks_the_device(error):
                # every later task in this process would fail the same way: leave, and Celery starts a fresh one
                # (the message comes back once, finds the submission failed and does nothing)
                log.critical("submission %s left this process's GPU context broken; the process exits", submission_id)
                os._exit(DEVICE_BROKEN_EXIT_STATUS)


def _breaks_the_device(error: Exception) -> bool:
    """A CUDA error other than out-of-memory (torch's AcceleratorError) leaves the process's context unusable."""
    torch = sys.modules.get("torch")  # not imported here: a process that never loaded torch has no such error
    return torch is not None and isinstance(error, getattr(torch, "AcceleratorError", ()))


def _fail(submission_id: int, attempt: int, message: str) -> None:
    """Fails this attempt's submission, on a fresh connection if the old one died; a cancellation stands."""

    held = Submission.objects.filter(pk=submission_id, attempts=attempt, status__in=[Status.RUNNING, Status.SCORING])
    if not retrying(lambda: fail(held, message), f"failing submission {submission_id}"):
        log.info("submission %s failed after this attempt lost it: %s", submission_id, message)


def _run(submission: Submission, attempt: int, stopper) -> None:
    root = testset_root(settings.ZOOBOARD_DATA_DIR, submission.testset.name, submission.testset.version)
    recipe = Recipe.from_dict(submission.preprocessing)
    with stored.model_file(submission.model_file) as model_path:
        evaluation = predict(
            ModelSource(model_path, submission.model_identifier),
            submission.model_format,
            recipe,
            root,
            batch_size=settings.ZOOBOARD_BATCH_SIZE,
            on_progress=_progress_reporter(submission.pk, attempt),
            precision=settings.ZOOBOARD_PRECISION,
            latency_runs=settings.ZOOBOARD_LATENCY_RUNS,
            stopper=stopper,
            pixel_cache=pixel_cache_dir(submission.testset.name, root),
        )
    to_scoring = Submission.objects.filter(pk=submission.pk, attempts=attempt, status=Status.RUNNING)
    fields = {"progress_done": submission.progress_total, "provider": evaluation.provider}
    moved = retrying(
        lambda: to_scoring.update(
            status=Status.SCORING, scoring_at=timezone.now(), efficiency=evaluation.efficiency, **fields
        ),
        f"scoring submission {submission.pk}",
    )
    if not moved:
        raise _why_not_held(submission.pk)
    # only once this attempt holds the submission in SCORING: a lost attempt never replaces the winner's file
    stored.save_predictions(submission.pk, evaluation.predictions)
    score(evaluation, root, settings.ZOOBOARD_MIN_SLICE)
    stopper.check()
    timings = {key: round(value, 3) for key, value in evaluation.seconds.items()}
    retrying(lambda: _store(submission.pk, attempt, evaluation.scores, timings), f"storing submission {submission.pk}")


@transaction.atomic
def _store(submission_id: int, attempt: int, scores: dict, timings: dict) -> None:
    """Results and DONE in one transaction, under this attempt's row lock: written once, by the holder only."""
    held = Claim.holds(submission_id, attempt, Status.SCORING)
    if held is None:
        raise _why_not_held(submission_id)
    Result.objects.store(held, scores, attempt=attempt)
    held.move_to(Status.DONE, timings=timings, lease_expires_at=None)


def _why_not_held(submission_id: int) -> Exception:
    status = Submission.objects.filter(pk=submission_id).values_list("status", flat=True).first()
    return Cancelled() if status == Status.CANCELLED else LeaseLost()


def _progress_reporter(submission_id: int, attempt: int):
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_SECONDS and done < total:
            return
        last[0] = now
        # one UPDATE both records progress and notices a cancellation or a lost lease
        held = Submission.objects.filter(pk=submission_id, attempts=attempt, status=Status.RUNNING)
        try:
            if held.update(progress_done=done):
                return
        except CONNECTION_ERRORS as error:  # the run goes on; progress is shown again once the database is back
            log.warning("could not record progress of submission %s (%s)", submission_id, error)
            fresh_connection()
            return
        raise _why_not_held(submission_id)

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
    loaders = {pk: partial(stored.load_predictions, pk) for pk in submissions}
    count = 0
    with ranking.deferred():  # the board is re-ranked once, after every result is stored
        for submission_id, scores in rescore(loaders, root, manifest, info, settings.ZOOBOARD_MIN_SLICE):
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


@shared_task(name=EXPORTS_TASK)
def make_board_exports(testset_id: int) -> int:
    """The test set's whole-board exports, made ahead once its boards are re-ranked (leaderboard/ranking.py)."""
    started = time.perf_counter()
    made = board_cache.make_exports(testset_id)
    log.info("made %d board exports of test set %s in %.1f s", made, testset_id, time.perf_counter() - started)
    return made


@shared_task(name=HOUSEKEEPING_TASK)
def housekeeping() -> dict:
    """What expires, removed: API tokens past their expiry (they no longer authenticate, but their rows stayed)
    and signed-out sessions past theirs. And the boards' exports made ahead, kept alive (or made again, if the
    cache dropped them). Sent by the periodic scheduler (config/settings.py)."""
    tokens, _ = ApiToken.objects.filter(expiry__lt=timezone.now()).delete()
    sessions = import_module(settings.SESSION_ENGINE).SessionStore
    sessions.clear_expired()
    exports = 0
    if settings.ZOOBOARD_EXPORTS_AHEAD:
        exports = sum(board_cache.make_exports(pk) for pk in TestSet.objects.values_list("pk", flat=True))
    log.info("housekeeping: %d expired API tokens removed, expired sessions cleared, %d exports made", tokens, exports)
    return {"expired_tokens": tokens, "exports_made": exports}

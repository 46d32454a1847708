"""Hands submissions to the evaluator through the broker, by task name: the site never imports the evaluator."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from config.celery import EVALUATE_TASK, EXPORTS_TASK, RESCORE_TASK, app

log = logging.getLogger(__name__)


def enqueue_evaluation(submission) -> bool:
    """Sends the task (after the submission's transaction commits) and records when.

    On a broker failure the submission stays queued with no sent_at: its page says it waits for the queue,
    and the workers' reaper sends it once the broker answers again (evaluator/reaper.py). A message sent
    twice is harmless: only one worker can claim the submission."""
    from leaderboard.models import Status, Submission  # the models import this module's callers

    # a Submission (its sent_at is set in memory too, for the response the site is building) or its id
    instance = submission if isinstance(submission, Submission) else None
    submission_id = instance.pk if instance is not None else submission
    try:
        app.send_task(EVALUATE_TASK, args=[submission_id], queue=settings.ZOOBOARD_EVALUATION_QUEUE)
    except Exception as error:
        log.warning("the broker is unreachable (%s); submission %s waits to be sent", error, submission_id)
        return False
    sent_at = timezone.now()
    Submission.objects.filter(pk=submission_id, status=Status.QUEUED).update(sent_at=sent_at)
    if instance is not None:
        instance.sent_at = sent_at
    return True


def enqueue_rescore(testset_name: str, label_set_name: str, version: int) -> bool:
    """Re-scoring runs on a worker: stored predictions live there, not on the site."""
    try:
        app.send_task(RESCORE_TASK, args=[testset_name, label_set_name, version], queue=settings.ZOOBOARD_CPU_QUEUE)
    except Exception:
        log.exception("could not enqueue re-scoring of %s/%s v%s", testset_name, label_set_name, version)
        return False
    return True


def enqueue_exports(testset_ids) -> None:
    """Asks a worker to make the test sets' whole-board exports ahead (leaderboard/board_cache.py), where the
    boards' cache is one the site shares with the workers. Best effort: a download the worker has not made
    ahead is made when it is asked for, as without it."""
    if not settings.ZOOBOARD_EXPORTS_AHEAD:
        return
    for testset_id in sorted(set(testset_ids)):
        try:
            app.send_task(EXPORTS_TASK, args=[testset_id], queue=settings.ZOOBOARD_CPU_QUEUE)
        except Exception as error:
            log.warning(
                "the broker is unreachable (%s); test set %s's exports are made when asked for", error, testset_id
            )
            return

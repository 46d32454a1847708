"""Hands submissions to the evaluator through the broker, by task name: the site never imports the evaluator."""

from __future__ import annotations

import logging

from django.conf import settings

from config.celery import EVALUATE_TASK, RESCORE_TASK, app

log = logging.getLogger(__name__)


def enqueue_evaluation(submission_id: int) -> bool:
    """Sends the task; on a broker failure the submission stays queued and is logged for `requeue`."""
    try:
        app.send_task(EVALUATE_TASK, args=[submission_id], queue=settings.ZOOBOARD_EVALUATION_QUEUE)
    except Exception:
        log.exception("could not enqueue submission %s; it stays queued", submission_id)
        return False
    return True


def enqueue_rescore(testset_name: str, label_set_name: str, version: int) -> bool:
    """Re-scoring runs on a worker: stored predictions live there, not on the site."""
    try:
        app.send_task(RESCORE_TASK, args=[testset_name, label_set_name, version], queue=settings.ZOOBOARD_CPU_QUEUE)
    except Exception:
        log.exception("could not enqueue re-scoring of %s/%s v%s", testset_name, label_set_name, version)
        return False
    return True

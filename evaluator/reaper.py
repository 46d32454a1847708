"""The reaper: every worker runs it on a thread, every ZOOBOARD_REAPER_INTERVAL seconds, so that no submission is
stuck or lost whatever died. Each pass, in conditional UPDATEs that any number of reapers may run at once:

- a running evaluation whose lease ran out (its worker was killed, lost its host or its database) is queued
  again and sent, or failed with a sentence when it already had its last attempt or ran past the hard limit;
- a running one past the hard limit is failed even if something still renews its lease;
- a queued submission the site could not hand to the broker (sent_at empty) is sent;
- a queued one sent long ago that no worker took (a broker that lost its queue on restart) is sent again.

A message delivered twice does nothing the second time: only one worker can claim a submission (Claim.take).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from evaluator.database import CONNECTION_ERRORS, fresh_connection
from evaluator.lease import too_slow
from leaderboard.models import Status, Submission
from leaderboard.models.submissions import fail, stopped_twice
from leaderboard.queue import enqueue_evaluation

log = logging.getLogger(__name__)
# the site sends a new submission itself right after its commit; the reaper leaves it that long to do so
SITE_GRACE = timedelta(seconds=5)


def reap() -> dict[str, int]:
    """One pass; returns how many submissions each rule touched (for the log and the tests)."""
    now = timezone.now()
    counts = {"requeued": 0, "failed": 0, "sent": 0, "resent": 0}
    running = Submission.objects.filter(status__in=[Status.RUNNING, Status.SCORING])
    hard_limit = now - timedelta(seconds=settings.ZOOBOARD_HARD_TIME_LIMIT)
    counts["failed"] += _fail(
        running.filter(started_at__lt=hard_limit), str(too_slow(settings.ZOOBOARD_SOFT_TIME_LIMIT))
    )
    expired = running.filter(Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True))
    counts["failed"] += _fail(expired.filter(attempts__gte=settings.ZOOBOARD_MAX_ATTEMPTS), stopped_twice())
    for submission in expired.filter(attempts__lt=settings.ZOOBOARD_MAX_ATTEMPTS).values("pk", "attempts", "worker"):
        # the same attempt, still expired: a worker that renewed meanwhile keeps its evaluation
        requeued = Submission.objects.filter(
            Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True),
            pk=submission["pk"],
            attempts=submission["attempts"],
            status__in=[Status.RUNNING, Status.SCORING],
        ).update(status=Status.QUEUED, lease_expires_at=None, sent_at=None, progress_done=0)
        if requeued:
            log.warning(
                "submission %s: attempt %s on %s stopped renewing its lease; queued again",
                submission["pk"],
                submission["attempts"],
                submission["worker"] or "an unknown worker",
            )
            counts["requeued"] += 1
    queued = Submission.objects.filter(status=Status.QUEUED)
    for pk in queued.filter(sent_at__isnull=True, created_at__lt=now - SITE_GRACE).values_list("pk", flat=True):
        counts["sent"] += enqueue_evaluation(pk)
    resend = now - timedelta(seconds=settings.ZOOBOARD_RESEND_AFTER)
    for pk in queued.filter(sent_at__lt=resend).values_list("pk", flat=True):
        counts["resent"] += enqueue_evaluation(pk)
    return counts


def _fail(submissions, message: str) -> int:
    failed = fail(submissions, message)
    if failed:
        log.error("failed %d submission(s): %s", failed, message)
    return failed


class ReaperThread(threading.Thread):
    """reap() at start-up and then every interval, until stop(); errors are logged, never fatal."""

    def __init__(self, interval: float):
        super().__init__(name="reaper", daemon=True)
        self.interval, self._stopped = interval, threading.Event()

    def run(self) -> None:
        while True:
            try:
                counts = reap()
                if any(counts.values()):
                    log.info("reaper: %s", counts)
            except CONNECTION_ERRORS as error:
                log.warning("reaper: database unreachable (%s); next pass in %s s", error, self.interval)
                fresh_connection()
            except Exception:
                log.exception("reaper pass failed")
            if self._stopped.wait(self.interval):
                break
        connection.close()

    def stop(self) -> None:
        self._stopped.set()

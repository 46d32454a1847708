"""The watchdog beside a running evaluation: it renews the attempt's lease, and stops the run when the time limit
passes, the submission is cancelled, or another worker took it over (this attempt lost its lease)."""

from __future__ import annotations

import logging
import threading
import time

from django.db import connection

from evaluator.database import CONNECTION_ERRORS, fresh_connection
from evaluator.engine.stopping import Stopper
from leaderboard.models import Status, Submission
from leaderboard.models.submissions import Claim
from plugins.errors import SubmissionError

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """The submission left the running state while it ran (cancelled by its owner or an admin)."""


class LeaseLost(Exception):
    """This attempt no longer holds the submission: its lease ran out and the reaper or another worker took it."""


def too_slow(seconds: int) -> SubmissionError:
    return SubmissionError(
        f"the evaluation took longer than the limit of {seconds} seconds and was stopped; make the model faster "
        "or smaller (a graph that never returns, such as an endless Loop, ends here too)"
    )


class Watchdog:
    """A thread for the duration of one attempt (a context manager); .stopper goes to the engine."""

    def __init__(self, submission_id: int, attempt: int, lease_seconds: float, time_limit: float):
        self.submission_id, self.attempt = submission_id, attempt
        self.lease_seconds, self.deadline = lease_seconds, time.monotonic() + time_limit
        self.time_limit = time_limit
        self.stopper = Stopper()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"watchdog-{submission_id}", daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        # renewals at a quarter of the lease: three can be missed (a database restart) before it runs out
        interval = max(self.lease_seconds / 4, 0.2)
        try:
            while not self._done.wait(min(interval, max(self.deadline - time.monotonic(), 0.05))):
                if time.monotonic() >= self.deadline:
                    log.warning("submission %s ran past its time limit; stopping it", self.submission_id)
                    self.stopper.stop(too_slow(int(self.time_limit)))
                    return
                self._renew()
        finally:
            connection.close()  # this thread's own connection

    def _renew(self) -> None:
        try:
            if Claim.renew(self.submission_id, self.attempt, self.lease_seconds):
                return
            status = Submission.objects.filter(pk=self.submission_id).values_list("status", flat=True).first()
        except CONNECTION_ERRORS as error:
            log.warning("could not renew the lease of submission %s (%s); trying again", self.submission_id, error)
            fresh_connection()
            return
        if status == Status.CANCELLED:
            self.stopper.stop(Cancelled())
        else:
            self.stopper.stop(LeaseLost())

"""Helpers shared by several integration test modules (plain functions and constants; fixtures live in
tests/integration/conftest.py)."""

from __future__ import annotations

import time

from django.db import OperationalError, connection

from leaderboard.models import Status, Submission

# a lease of 5 s (a fresh pool process spends its first seconds importing) and a reaper pass every second:
# recovery in seconds rather than minutes
FAST_RECOVERY = {"ZOOBOARD_LEASE_SECONDS": "5", "ZOOBOARD_REAPER_INTERVAL": "1", "ZOOBOARD_LATENCY_RUNS": "2"}


def wait_for(submission_id: int, condition, deadline_seconds: float = 240) -> Submission:
    """Polls the database, reconnecting while it restarts, until condition(submission) or the deadline."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        try:
            submission = Submission.objects.get(pk=submission_id)
        except OperationalError:
            connection.close()
        else:
            if condition(submission):
                return submission
        time.sleep(0.1)
    raise TimeoutError(f"submission {submission_id} did not get there in {deadline_seconds} s: {submission.status}")


def finished(submission_id: int, deadline_seconds: float = 240) -> Submission:
    return wait_for(submission_id, lambda submission: submission.is_finished, deadline_seconds)


def mid_run(submission_id: int) -> Submission:
    return wait_for(submission_id, lambda s: s.status == Status.RUNNING and s.progress_done > 0)

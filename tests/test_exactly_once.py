"""Claims, leases and the reaper, on the real database: one attempt at a time holds a submission, a lost one is
queued again or failed with a sentence, and only the holder can write results."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from evaluator.engine.evaluation import predict
from evaluator.engine.stopping import Stopper
from evaluator.lease import Cancelled, LeaseLost, Watchdog
from evaluator.reaper import reap
from evaluator.tasks import _store
from leaderboard.models import Status, Submission
from leaderboard.models.submissions import Claim, stopped_twice
from plugins.contracts import ModelSource
from plugins.errors import SubmissionError
from plugins.recipe import Recipe
from tests import onnx_models

EVALUATE = "evaluator.evaluate_submission"


@pytest.fixture
def submission(cifar10, alice):
    return Submission.objects.create(owner=alice, testset=cifar10, name="m", preprocessing={}, sent_at=timezone.now())


def expire(submission) -> None:
    Submission.objects.filter(pk=submission.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def test_only_one_claim_of_a_queued_submission_wins(submission):
    assert Claim.take(submission.pk, "host:1", 60, 2) == 1
    assert Claim.take(submission.pk, "host:2", 60, 2) is None  # a second delivery of the same message
    submission.refresh_from_db()
    assert (submission.status, submission.attempts, submission.worker) == (Status.RUNNING, 1, "host:1")


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_give_one_attempt(submission):
    won, start = [], threading.Barrier(8)

    def claim(worker):
        start.wait()
        try:
            won.append(Claim.take(submission.pk, worker, 60, 2))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(f"host:{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won, key=str) == [1] + [None] * 7


def test_an_expired_lease_is_taken_over_and_the_old_attempt_can_no_longer_renew(submission):
    Claim.take(submission.pk, "host:1", 60, 2)
    expire(submission)
    assert Claim.take(submission.pk, "host:2", 60, 2) == 2
    assert not Claim.renew(submission.pk, 1, 60)
    assert Claim.renew(submission.pk, 2, 60)


def test_a_takeover_after_the_last_attempt_fails_with_a_sentence(submission):
    Claim.take(submission.pk, "host:1", 60, 1)
    expire(submission)
    assert Claim.take(submission.pk, "host:2", 60, 1) is None
    submission.refresh_from_db()
    assert submission.status == Status.FAILED and submission.error_message == stopped_twice()


def test_a_cancelled_submission_is_never_claimed(submission):
    submission.move_to(Status.CANCELLED)
    assert Claim.take(submission.pk, "host:1", 60, 2) is None


def test_an_attempt_that_lost_its_lease_cannot_store_results(submission):
    Claim.take(submission.pk, "host:1", 60, 2)
    Submission.objects.filter(pk=submission.pk).update(status=Status.SCORING)
    expire(submission)
    Claim.take(submission.pk, "host:2", 60, 2)  # attempt 2 now holds it, running
    with pytest.raises(LeaseLost):
        _store(submission.pk, 1, {}, {})
    submission.refresh_from_db()
    assert submission.status == Status.RUNNING and not submission.results.exists()


def test_the_reaper_requeues_an_expired_attempt_and_sends_it(submission, sent_tasks):
    Claim.take(submission.pk, "host:1", 60, 2)
    expire(submission)
    counts = reap()
    submission.refresh_from_db()
    assert counts["requeued"] == 1 and submission.status == Status.QUEUED and submission.attempts == 1
    # the reaper sends it on its next pass, once the site's grace has passed
    Submission.objects.filter(pk=submission.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert reap()["sent"] == 1
    assert sent_tasks[-1] == (EVALUATE, {"args": [submission.pk], "queue": "cpu"})
    assert Submission.objects.get(pk=submission.pk).sent_at is not None


def test_the_reaper_leaves_a_live_lease_alone(submission, sent_tasks):
    Claim.take(submission.pk, "host:1", 60, 2)
    assert reap() == {"requeued": 0, "failed": 0, "sent": 0, "resent": 0}
    assert Submission.objects.get(pk=submission.pk).status == Status.RUNNING


def test_the_reaper_fails_an_expired_last_attempt(submission):
    Claim.take(submission.pk, "host:1", 60, 2)
    expire(submission)
    reap()
    Claim.take(submission.pk, "host:2", 60, 2)
    expire(submission)
    assert reap()["failed"] == 1
    submission.refresh_from_db()
    assert submission.status == Status.FAILED and submission.error_message == stopped_twice()


def test_the_reaper_fails_a_run_past_the_hard_limit_even_with_a_live_lease(submission, settings):
    Claim.take(submission.pk, "host:1", 60, 2)
    long_ago = timezone.now() - timedelta(seconds=settings.ZOOBOARD_HARD_TIME_LIMIT + 1)
    Submission.objects.filter(pk=submission.pk).update(started_at=long_ago)
    assert reap()["failed"] == 1
    submission.refresh_from_db()
    assert submission.status == Status.FAILED
    assert f"longer than the limit of {settings.ZOOBOARD_SOFT_TIME_LIMIT} seconds" in submission.error_message
    assert not Claim.renew(submission.pk, 1, 60)  # the worker still running it learns and stops


def test_the_reaper_sends_what_the_site_could_not_and_resends_what_no_worker_took(submission, settings, sent_tasks):
    minute_ago = timezone.now() - timedelta(minutes=1)
    Submission.objects.filter(pk=submission.pk).update(sent_at=None, created_at=minute_ago)
    assert reap()["sent"] == 1
    assert reap()["sent"] == 0  # sent once
    stale = timezone.now() - timedelta(seconds=settings.ZOOBOARD_RESEND_AFTER + 1)
    Submission.objects.filter(pk=submission.pk).update(sent_at=stale)
    assert reap()["resent"] == 1
    assert [name for name, _ in sent_tasks] == [EVALUATE, EVALUATE]


def test_a_submission_the_broker_refused_waits_with_no_sent_at(cifar10, alice, monkeypatch):
    from leaderboard.queue import enqueue_evaluation

    def unreachable(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("leaderboard.queue.app.send_task", unreachable)
    waiting = Submission.objects.create(owner=alice, testset=cifar10, name="m", preprocessing={})
    assert enqueue_evaluation(waiting.pk) is False
    waiting.refresh_from_db()
    assert waiting.status == Status.QUEUED and waiting.waiting_for_broker


def test_a_stop_interrupts_onnxruntime_inside_a_call_that_never_returns(cifar10_root, tmp_path):
    """The watchdog's path, without a worker: a Loop of 2^62 iterations, stopped from another thread."""
    import onnx

    path = tmp_path / "endless.onnx"
    onnx.save(onnx_models.endless_loop(), path)
    stopper, reason = Stopper(), SubmissionError("stopped by the test")
    timer = threading.Timer(1.0, stopper.stop, args=(reason,))
    timer.start()
    with pytest.raises(SubmissionError) as raised:
        predict(
            ModelSource(path),
            "onnx",
            Recipe(input_size=32, crop_pct=1.0),
            cifar10_root,
            latency_runs=0,
            stopper=stopper,
        )
    timer.join()
    assert raised.value is reason


def test_a_stop_ends_a_normal_run_at_the_next_batch(cifar10_root, tmp_path):
    import onnx

    path = tmp_path / "plain.onnx"
    onnx.save(onnx_models.pooled_linear(), path)
    stopper, seen = Stopper(), []

    def progress(done, total):
        seen.append(done)
        stopper.stop(SubmissionError("enough"))

    with pytest.raises(SubmissionError, match="enough"):
        predict(
            ModelSource(path),
            "onnx",
            Recipe(input_size=32, crop_pct=1.0),
            cifar10_root,
            batch_size=100,
            on_progress=progress,
            latency_runs=0,
            stopper=stopper,
        )
    assert seen == [100]
    assert np.all(np.diff(seen) >= 0)


def wait_until(condition, deadline_seconds: float = 20):
    deadline = time.monotonic() + deadline_seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_the_watchdog_renews_the_lease_while_the_run_goes_on(submission):
    attempt = Claim.take(submission.pk, "host:1", 1, 2)
    first = Submission.objects.get(pk=submission.pk).lease_expires_at
    with Watchdog(submission.pk, attempt, lease_seconds=1, time_limit=60):
        wait_until(lambda: Submission.objects.get(pk=submission.pk).lease_expires_at > first + timedelta(seconds=1))
    assert reap()["requeued"] == 0 or Submission.objects.get(pk=submission.pk).status == Status.RUNNING


@pytest.mark.django_db(transaction=True)
def test_the_watchdog_stops_a_cancelled_run(submission):
    attempt = Claim.take(submission.pk, "host:1", 1, 2)
    with Watchdog(submission.pk, attempt, lease_seconds=1, time_limit=60) as watchdog:
        submission.move_to(Status.CANCELLED)
        wait_until(lambda: watchdog.stopper.reason is not None)
    assert isinstance(watchdog.stopper.reason, Cancelled)


@pytest.mark.django_db(transaction=True)
def test_the_watchdog_stops_a_run_past_its_time_limit(submission):
    attempt = Claim.take(submission.pk, "host:1", 1, 2)
    with Watchdog(submission.pk, attempt, lease_seconds=1, time_limit=0.5) as watchdog:
        wait_until(lambda: watchdog.stopper.reason is not None)
    assert str(watchdog.stopper.reason).startswith("the evaluation took longer than the limit of 0 seconds")

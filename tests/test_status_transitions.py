"""A submission's status moves forward (queued -> running -> scoring -> done | failed | cancelled); only a re-run
of a finished one starts again from queued."""

from __future__ import annotations

import pytest

from leaderboard.models import InvalidTransition, Status, Submission


@pytest.fixture
def submission(cifar10, alice):
    return Submission.objects.create(owner=alice, testset=cifar10, name="m", preprocessing={})


def test_it_moves_forward_and_stamps_each_step(submission):
    submission.move_to(Status.RUNNING)
    submission.move_to(Status.SCORING)
    submission.move_to(Status.DONE)
    assert submission.status == Status.DONE
    assert submission.started_at <= submission.scoring_at <= submission.finished_at


@pytest.mark.parametrize("finished", [Status.DONE, Status.FAILED, Status.CANCELLED])
def test_a_finished_submission_never_moves_again(submission, finished):
    Submission.objects.filter(pk=submission.pk).update(status=finished)
    for target in (Status.QUEUED, Status.RUNNING, Status.SCORING, Status.DONE, Status.FAILED, Status.CANCELLED):
        with pytest.raises(InvalidTransition):
            submission.move_to(target)
    assert Submission.objects.get(pk=submission.pk).status == finished


def test_it_cannot_skip_running(submission):
    with pytest.raises(InvalidTransition, match="cannot move from queued to scoring"):
        submission.move_to(Status.SCORING)


def test_a_stale_copy_cannot_undo_a_cancellation(submission):
    stale = Submission.objects.get(pk=submission.pk)
    submission.move_to(Status.CANCELLED)
    with pytest.raises(InvalidTransition):
        stale.move_to(Status.RUNNING)


@pytest.mark.parametrize("finished", [Status.DONE, Status.FAILED, Status.CANCELLED])
def test_a_rerun_queues_a_finished_submission_from_scratch(submission, finished):
    Submission.objects.filter(pk=submission.pk).update(status=finished, attempts=2, error_message="broken")
    submission.rerun()
    assert (submission.status, submission.attempts, submission.error_message) == (Status.QUEUED, 0, "")
    assert submission.sent_at is None and submission.finished_at is None


@pytest.mark.parametrize("unfinished", [Status.QUEUED, Status.RUNNING, Status.SCORING])
def test_an_unfinished_submission_cannot_be_rerun(submission, unfinished):
    Submission.objects.filter(pk=submission.pk).update(status=unfinished)
    with pytest.raises(InvalidTransition, match="only a finished one can be re-run"):
        submission.rerun()

"""What a moderator does to submissions and users, each action with its audit row. The admin calls these.

Each function changes one submission or user and returns whether it changed anything; an action that
changes nothing (hiding a hidden submission) writes no audit row."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from leaderboard import ranking
from leaderboard.models import Action, Ban, InvalidTransition, ModerationEvent, Status, Submission, TestSet
from leaderboard.models.submissions import FINISHED
from leaderboard.queue import enqueue_evaluation, enqueue_rescore


class ModerationError(Exception):
    """An action that cannot be done, in a sentence for the moderator."""


def describe(submission: Submission) -> str:
    return f"submission {submission.pk} “{submission.name}” by {submission.owner.username}"[:300]


def record(actor, action: Action, target: str, submission=None, user=None, reason="", before=None, after=None):
    return ModerationEvent.objects.create(
        actor=actor,
        action=action,
        target=target[:300],
        submission=submission,
        user=user if user is not None else getattr(submission, "owner", None),
        reason=reason,
        before=before or {},
        after=after or {},
    )


# the fields whose change can move a submission on or off the public boards
VISIBILITY = {"hidden", "approved_at"}


def _set(submission: Submission, actor, action: Action, reason: str, **values) -> bool:
    """Sets moderation fields in one conditional UPDATE (so two moderators cannot both record the change)."""
    before = {field: getattr(submission, field) for field in values}
    if before == values:
        return False
    with transaction.atomic():
        if not Submission.objects.filter(pk=submission.pk, **before).update(**values):
            return False
        submission.refresh_from_db()
        record(
            actor, action, describe(submission), submission, reason=reason, before=_json(before), after=_json(values)
        )
        if VISIBILITY & set(values):
            ranking.submission_changed(submission)
        else:  # the baseline badge and pin: nothing moves, but the boards as served change
            ranking.restamp(submission.results.values_list("label_set_id", flat=True))
    return True


def _json(values: dict) -> dict:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in values.items()}


def hide(submission: Submission, actor, reason: str) -> bool:
    return _set(submission, actor, Action.HIDE, reason, hidden=True)


def unhide(submission: Submission, actor, reason: str = "") -> bool:
    return _set(submission, actor, Action.UNHIDE, reason, hidden=False)


def approve(submission: Submission, actor, reason: str = "") -> bool:
    if submission.approved_at is not None:
        return False
    return _set(submission, actor, Action.APPROVE, reason, approved_at=timezone.now())


def revoke_approval(submission: Submission, actor, reason: str = "") -> bool:
    return _set(submission, actor, Action.REVOKE_APPROVAL, reason, approved_at=None)


def flag(submission: Submission, actor, reason: str) -> bool:
    """The reason is the flag: the submitter reads it on the submission's page and in the API."""
    if not reason.strip():
        raise ModerationError("a flag needs a reason: the submitter reads it")
    return _set(submission, actor, Action.FLAG, reason, flag_reason=reason.strip(), flagged_at=timezone.now())


def unflag(submission: Submission, actor, reason: str = "") -> bool:
    if not submission.flag_reason:
        return False
    return _set(submission, actor, Action.UNFLAG, reason, flag_reason="", flagged_at=None)


def mark_baseline(submission: Submission, actor, reason: str = "") -> bool:
    """A reference model: marked on every board it is on, and pinned above the board's rows."""
    return _set(submission, actor, Action.MARK_BASELINE, reason, is_baseline=True)


def unmark_baseline(submission: Submission, actor, reason: str = "") -> bool:
    return _set(submission, actor, Action.UNMARK_BASELINE, reason, is_baseline=False)


def cancel(submission: Submission, actor, reason: str = "") -> bool:
    """Cancels a queued or running evaluation (the worker notices and stops); raises InvalidTransition otherwise."""
    before = submission.status
    with transaction.atomic():
        submission.move_to(Status.CANCELLED)
        record(actor, Action.CANCEL, describe(submission), submission, reason=reason, before={"status": before})
    return True


def rerun(submission: Submission, actor, reason: str = "") -> bool:
    """Evaluates a finished submission again from scratch; where the test set asks for approval, the new
    results need a new approval."""
    before = _json({"status": submission.status, "approved_at": submission.approved_at})
    with transaction.atomic():
        submission.rerun()
        Submission.objects.filter(pk=submission.pk).update(approved_at=None)
        submission.refresh_from_db()
        record(actor, Action.RERUN, describe(submission), submission, reason=reason, before=before)
        transaction.on_commit(lambda: enqueue_evaluation(submission.pk))
    return True


def rescore(submissions, actor, reason: str = "") -> list[str]:
    """Queues re-scoring of every current label set of the submissions' test sets (on a worker, from the stored
    predictions), each label set once; returns the label sets queued. Raises ModerationError if none could be."""
    queued, failed = {}, []
    testsets = TestSet.objects.filter(pk__in={submission.testset_id for submission in submissions})
    for testset in testsets.prefetch_related("label_sets"):
        for label_set in testset.label_sets.all():
            if label_set.is_current:
                if enqueue_rescore(testset.name, label_set.name, label_set.version):
                    queued.setdefault(testset.pk, []).append(str(label_set))
                else:
                    failed.append(str(label_set))
    if failed and not queued:
        raise ModerationError(f"could not queue re-scoring of {', '.join(failed)}: the broker is unreachable")
    for submission in submissions:
        if submission.testset_id in queued:
            label_sets = queued[submission.testset_id]
            record(actor, Action.RESCORE, describe(submission), submission, reason=reason, after={"queued": label_sets})
    return [name for names in queued.values() for name in names]


@transaction.atomic
def ban(user, actor, reason: str) -> bool:
    """No sign-in, no token (is_active off), pending submissions cancelled, every result hidden."""
    if not reason.strip():
        raise ModerationError("a ban needs a reason")
    if user.pk == actor.pk or user.is_staff:
        raise ModerationError(f"{user.username} is staff: remove their staff status before banning them")
    if Ban.objects.active().filter(user=user).exists():
        return False
    Ban.objects.create(user=user, reason=reason.strip(), banned_by=actor)
    user.is_active = False
    user.save(update_fields=["is_active"])
    cancelled = []
    for submission in Submission.objects.filter(owner=user).exclude(status__in=FINISHED):
        try:
            submission.move_to(Status.CANCELLED)
        except InvalidTransition:
            continue  # it finished meanwhile: hidden with the rest
        cancelled.append(submission.pk)
    after = {"is_active": False, "cancelled": cancelled}
    ranking.owner_changed(user)
    record(
        actor, Action.BAN, f"user {user.username}", user=user, reason=reason, before={"is_active": True}, after=after
    )
    return True


@transaction.atomic
def unban(user, actor, reason: str = "") -> bool:
    """Lifts the active ban: the user signs in again and their results are shown again (cancelled ones stay so)."""
    if not Ban.objects.active().filter(user=user).update(lifted_at=timezone.now(), lifted_by=actor):
        return False
    user.is_active = True
    user.save(update_fields=["is_active"])
    ranking.owner_changed(user)
    after = {"is_active": True}
    record(
        actor, Action.UNBAN, f"user {user.username}", user=user, reason=reason, before={"is_active": False}, after=after
    )
    return True


def set_approval_rule(testset: TestSet, actor, requires_approval: bool) -> None:
    """Audits a change of a test set's approval rule (made on its admin page), and re-ranks its boards."""
    ranking.testset_changed(testset)
    record(
        actor,
        Action.SET_APPROVAL,
        f"test set {testset.name}",
        before={"requires_approval": not requires_approval},
        after={"requires_approval": requires_approval},
    )

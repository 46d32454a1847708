"""Submissions and the life of their status: queued -> running -> scoring -> done | failed | cancelled.

A status moves forward only, with two ways back to queued: the reaper re-queues an evaluation whose worker
stopped renewing its lease (evaluator/reaper.py), and a moderator re-runs a finished one (Submission.rerun).
Each start of an evaluation is an attempt, numbered; a worker writes only under its own attempt's number, so
an attempt that lost its lease can no longer change anything (a fencing token).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models, transaction
from django.utils import timezone

from leaderboard.models.testsets import TestSet
from leaderboard.models.visibility import SubmissionQuerySet

# a model card's links are shown as links: a web address only (not ftp:, and never javascript: or data:)
web_address = URLValidator(schemes=["http", "https"], message="must be a web address (http:// or https://)")


# what a submitter tells about the model, at submit time or later (leaderboard/views/submissions.py: edit_card)
CARD_FIELDS = ("description", "paper_url", "code_url", "licence", "architecture")


class Status(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SCORING = "scoring"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# The only moves allowed; the finished states have none, so a status never goes back.
TRANSITIONS = {
    Status.QUEUED: {Status.RUNNING, Status.FAILED, Status.CANCELLED},
    Status.RUNNING: {Status.SCORING, Status.FAILED, Status.CANCELLED},
    Status.SCORING: {Status.DONE, Status.FAILED},
}
IN_FLIGHT = {Status.QUEUED, Status.RUNNING, Status.SCORING}
FINISHED = {Status.DONE, Status.FAILED, Status.CANCELLED}
# the timestamp each status sets
STAMPS = {
    Status.RUNNING: "started_at",
    Status.SCORING: "scoring_at",
    Status.DONE: "finished_at",
    Status.FAILED: "finished_at",
    Status.CANCELLED: "finished_at",
}


class InvalidTransition(Exception):
    pass


def model_upload_path(submission: Submission, filename: str) -> str:
    # the name is ours ("model" + the format's suffix), never the submitter's, which could carry a path
    suffix = "".join(c for c in Path(filename).suffix if c.isalnum() or c == ".")
    return f"models/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Submission(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    testset = models.ForeignKey(TestSet, on_delete=models.PROTECT, related_name="submissions")
    name = models.CharField(max_length=200)
    # the model card (with architecture below): the submitter's, shown on the submission page and the boards
    description = models.TextField(blank=True, max_length=5000)
    paper_url = models.CharField(blank=True, max_length=500, validators=[web_address], help_text="the paper, if any")
    code_url = models.CharField(blank=True, max_length=500, validators=[web_address], help_text="the training code")
    licence = models.CharField(blank=True, max_length=100, help_text="of the weights, e.g. Apache-2.0")
    model_format = models.CharField(max_length=50, default="onnx")
    model_file = models.FileField(upload_to=model_upload_path, blank=True)
    model_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    model_identifier = models.CharField(max_length=300, blank=True, help_text="for formats named by identifier")
    preprocessing = models.JSONField(help_text="the resolved recipe the model is evaluated with")
    model_details = models.JSONField(default=dict, blank=True, help_text="what the submit-time check found")
    architecture = models.CharField(
        max_length=100,
        blank=True,
        db_index=True,
        help_text="architecture family (e.g. resnet): the submitter's, else what the model format found",
    )

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True, help_text="shown to the submitter")
    provider = models.CharField(max_length=100, blank=True, help_text="what actually ran the model")
    timings = models.JSONField(default=dict, blank=True)
    efficiency = models.JSONField(
        default=dict, blank=True, help_text="what running the model cost (size, speed, memory) and on what machine"
    )
    hidden = models.BooleanField(default=False, help_text="moderation: hidden from public leaderboards")
    withdrawn_at = models.DateTimeField(
        null=True, blank=True, help_text="withdrawn by its submitter from public boards (restorable by them)"
    )
    # moderation (leaderboard/moderating.py changes these, each change in the audit log); who sees what:
    # leaderboard/models/visibility.py
    approved_at = models.DateTimeField(null=True, blank=True, help_text="moderation: approved for publication")
    flag_reason = models.TextField(blank=True, help_text="moderation: a flag the submitter sees")
    flagged_at = models.DateTimeField(null=True, blank=True)
    is_baseline = models.BooleanField(
        default=False, help_text="moderation: a reference model, marked on every board and pinned above its rows"
    )
    objects = SubmissionQuerySet.as_manager()

    # exactly-once evaluation: see the module's docstring and evaluator/reaper.py
    attempts = models.PositiveSmallIntegerField(default=0, help_text="how many times a worker started it")
    worker = models.CharField(max_length=200, blank=True, help_text="the worker holding the lease (host:pid)")
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="when it was handed to the broker; empty: not yet sent (broker down)"
    )

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    scoring_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # the queue under each board (a few rows among thousands done)
            models.Index(
                fields=["testset", "-created_at"],
                condition=models.Q(status__in=["queued", "running", "scoring"]),
                name="submission_in_flight",
            ),
            # a board's pinned baselines, a handful among thousands (10 ms a page by a scan at 10,000)
            models.Index(fields=["id"], condition=models.Q(is_baseline=True), name="submission_baseline"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if self.status == Status.DONE:  # a direct edit (the admin, a shell) may move it on or off the boards
            ranking().submission_changed(self)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def waiting_for_broker(self) -> bool:
        """Queued but not yet handed to the broker: the site could not reach it; the workers send it later."""
        return self.status == Status.QUEUED and self.sent_at is None

    def rerun(self) -> None:
        """A moderator's re-run: a finished submission is queued again from scratch, its results removed."""
        with transaction.atomic():
            updated = Submission.objects.filter(pk=self.pk, status__in=FINISHED).update(
                status=Status.QUEUED,
                attempts=0,
                worker="",
                lease_expires_at=None,
                sent_at=None,
                progress_done=0,
                error_message="",
                started_at=None,
                scoring_at=None,
                finished_at=None,
            )
            if not updated:
                raise InvalidTransition(f"submission {self.pk} is {self.status}: only a finished one can be re-run")
            boards = list(self.results.values_list("label_set_id", flat=True))
            ranking().lock(boards)  # before its entries go: a re-ranking in progress finishes first
            self.results.all().delete()
            ranking().changed(boards)
        self.refresh_from_db()

    def move_to(self, status: Status, **fields) -> None:
        """Moves the status along TRANSITIONS in one conditional UPDATE, so concurrent moves cannot both win."""
        allowed_from = [source for source, targets in TRANSITIONS.items() if status in targets]
        if status in STAMPS:
            fields.setdefault(STAMPS[status], timezone.now())
        updated = Submission.objects.filter(pk=self.pk, status__in=allowed_from).update(status=status, **fields)
        if not updated:
            current = Submission.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            raise InvalidTransition(f"submission {self.pk} cannot move from {current} to {status}")
        self.refresh_from_db()
        if status == Status.DONE:  # its results join the boards
            ranking().submission_changed(self)


class Claim:
    """Taking and keeping an evaluation: conditional UPDATEs, so that two workers can never both hold one."""

    @staticmethod
    def take(submission_id: int, worker: str, lease_seconds: float, max_attempts: int) -> int | None:
        """Starts an attempt on a queued submission, or takes over one whose lease expired; returns its number.

        None when there is nothing to do (finished, cancelled, or held by a live lease). A takeover past
        max_attempts fails the submission instead: the model has stopped its worker that often."""
        now = timezone.now()
        row = Submission.objects.filter(pk=submission_id).values("status", "attempts", "lease_expires_at").first()
        if row is None:
            return None
        expired = row["status"] in (Status.RUNNING, Status.SCORING) and (
            row["lease_expires_at"] is None or row["lease_expires_at"] < now
        )
        if row["status"] != Status.QUEUED and not expired:
            return None
        same = Submission.objects.filter(pk=submission_id, status=row["status"], attempts=row["attempts"])
        if row["attempts"] >= max_attempts:
            fail(same, stopped_twice())
            return None
        attempt = row["attempts"] + 1
        taken = same.update(
            status=Status.RUNNING,
            attempts=attempt,
            worker=worker[:200],
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            started_at=now,
            progress_done=0,
        )
        return attempt if taken else None

    @staticmethod
    def renew(submission_id: int, attempt: int, lease_seconds: float) -> bool:
        """Extends the lease; False when this attempt no longer holds the submission (cancelled, taken over)."""
        until = timezone.now() + timedelta(seconds=lease_seconds)
        held = Submission.objects.filter(
            pk=submission_id, attempts=attempt, status__in=[Status.RUNNING, Status.SCORING]
        )
        return bool(held.update(lease_expires_at=until))

    @staticmethod
    def holds(submission_id: int, attempt: int, status: Status) -> Submission | None:
        """The submission, row-locked until the transaction ends, if this attempt still holds it in status."""
        locked = Submission.objects.select_for_update().select_related("testset")
        return locked.filter(pk=submission_id, attempts=attempt, status=status).first()


def ranking():
    """leaderboard/ranking.py, which imports these models: what keeps the boards' stored rankings up to date."""
    from leaderboard import ranking

    return ranking


def fail(submissions, message: str) -> int:
    """Fails the submissions in one conditional UPDATE (the queryset says which are still to fail); how many."""
    return submissions.update(
        status=Status.FAILED, error_message=message, finished_at=timezone.now(), lease_expires_at=None
    )


def stopped_twice() -> str:
    return (
        "the evaluation stopped its worker every time it was tried (the worker crashed, was killed or ran out of "
        "memory); check that the model runs within the memory of one GPU or CPU worker, then submit it again"
    )

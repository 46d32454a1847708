"""Submissions and the one-way life of their status: queued -> running -> scoring -> done | failed | cancelled."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone

from leaderboard.models.testsets import TestSet


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
    description = models.TextField(blank=True)
    model_format = models.CharField(max_length=50, default="onnx")
    model_file = models.FileField(upload_to=model_upload_path, blank=True)
    model_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    model_identifier = models.CharField(max_length=300, blank=True, help_text="for formats named by identifier")
    preprocessing = models.JSONField(help_text="the resolved recipe the model is evaluated with")
    model_details = models.JSONField(default=dict, blank=True, help_text="what the submit-time check found")

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

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    scoring_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

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

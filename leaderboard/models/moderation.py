"""Moderation's records: bans, and the append-only audit log of every moderation action (who, what, when, why)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """The audit log only grows: an entry is never changed or deleted."""


class Action(models.TextChoices):
    APPROVE = "approve"
    REVOKE_APPROVAL = "revoke-approval"
    HIDE = "hide"
    UNHIDE = "unhide"
    FLAG = "flag"
    UNFLAG = "unflag"
    BAN = "ban"
    UNBAN = "unban"
    RERUN = "rerun"
    RESCORE = "rescore"
    CANCEL = "cancel"
    MARK_BASELINE = "mark-baseline", "mark as a baseline"
    UNMARK_BASELINE = "unmark-baseline", "no longer a baseline"
    SET_APPROVAL = "set-approval", "set a test set's approval rule"


class AuditQuerySet(models.QuerySet):
    # QuerySet.update() and delete() never call the model's save() and delete(): refuse them here too
    def update(self, **kwargs):
        raise AppendOnlyError("the moderation audit log is append-only: entries cannot be changed")

    def delete(self):
        raise AppendOnlyError("the moderation audit log is append-only: entries cannot be deleted")


class ModerationEvent(models.Model):
    """One moderation action. Written once by leaderboard/moderating.py; the admin only reads it.

    django-auditlog and django-simple-history record field diffs of saved models, not an actor's action with
    a reason on a submission or a user, and their rows stay deletable; the model below is the whole need."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # PROTECT: a moderator with entries cannot be deleted (deactivate them instead), so "who" never vanishes
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=30, choices=Action.choices, db_index=True)
    # No database constraint and DO_NOTHING: deleting a submission or a user must not touch (UPDATE, cascade)
    # the log; `target` keeps a readable name of what was acted on for that case.
    submission = models.ForeignKey(
        "leaderboard.Submission",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="moderation_events",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="moderation_events",
        help_text="the user acted on: the banned user, or the submission's owner",
    )
    target = models.CharField(max_length=300, help_text="what was acted on, as it was named then")
    reason = models.TextField(blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("the moderation audit log is append-only: entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("the moderation audit log is append-only: entries cannot be deleted")


# The same rule in the database, for whatever bypasses the ORM (raw SQL, psql, another client). Hand-written:
# django-pgtrigger would do it, but it is ten lines of SQL, against a new app in INSTALLED_APPS.
# Migration 0004 installs it, on PostgreSQL only. TRUNCATE is left alone on purpose: `manage.py flush` and
# the test runner empty tables with it.
APPEND_ONLY_TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION leaderboard_moderationevent_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the moderation audit log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS leaderboard_moderationevent_append_only ON leaderboard_moderationevent;
CREATE TRIGGER leaderboard_moderationevent_append_only
    BEFORE UPDATE OR DELETE ON leaderboard_moderationevent
    FOR EACH ROW EXECUTE FUNCTION leaderboard_moderationevent_refuse();
"""
DROP_APPEND_ONLY_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS leaderboard_moderationevent_append_only ON leaderboard_moderationevent;
DROP FUNCTION IF EXISTS leaderboard_moderationevent_refuse();
"""


class BanQuerySet(models.QuerySet):
    def active(self) -> BanQuerySet:
        return self.filter(lifted_at__isnull=True)


class Ban(models.Model):
    """A banned user: is_active is off while a ban is active (no sign-in, no token), their results are hidden
    (leaderboard/models/visibility.py). Lifting a ban keeps the record."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bans")
    reason = models.TextField()
    banned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    banned_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = BanQuerySet.as_manager()

    class Meta:
        ordering = ["-banned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(lifted_at__isnull=True), name="one_active_ban_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} banned {self.banned_at:%Y-%m-%d}{' (lifted)' if self.lifted_at else ''}"

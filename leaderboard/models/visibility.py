"""Who sees which submission: the one rule every page, API view and board uses (Submission.objects.visible_to)."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q


def public_condition() -> Q:
    """What anyone may see: not hidden, not withdrawn by its submitter, not failed or cancelled (their errors and
    files are the submitter's), approved where the test set asks for approval, and not by a banned user."""
    # imported here: submissions.py imports this module to set the manager
    from leaderboard.models.moderation import Ban
    from leaderboard.models.submissions import Status

    banned = Ban.objects.filter(user=OuterRef("owner"), lifted_at__isnull=True)
    return (
        Q(hidden=False, withdrawn_at__isnull=True)
        & ~Q(status__in=[Status.FAILED, Status.CANCELLED])
        & ~Q(testset__requires_approval=True, approved_at__isnull=True)
        & ~Q(Exists(banned))
    )


class SubmissionQuerySet(models.QuerySet):
    def public(self) -> SubmissionQuerySet:
        return self.filter(public_condition())

    def visible_to(self, user) -> SubmissionQuerySet:
        """Staff see everything; a signed-in user also sees their own; everyone else only the public ones."""
        if user is not None and user.is_active and user.is_staff:
            return self.all()
        if user is not None and user.is_authenticated:
            return self.filter(public_condition() | Q(owner=user))
        return self.public()

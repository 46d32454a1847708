"""What the API says about a submission's moderation: to its submitter and staff only, null for anyone else."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

APPROVAL_STATES = ["not required", "awaiting", "approved"]


class ModerationSerializer(serializers.Serializer):
    hidden = serializers.BooleanField(help_text="hidden from the public by a moderator")
    approval = serializers.SerializerMethodField(help_text="where the test set publishes only approved results")
    approved_at = serializers.DateTimeField(allow_null=True)
    flag = serializers.SerializerMethodField(help_text="a moderator's note to the submitter; null when not flagged")
    flagged_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.ChoiceField(choices=APPROVAL_STATES))
    def get_approval(self, submission) -> str:
        if not submission.testset.requires_approval:
            return "not required"
        return "approved" if submission.approved_at else "awaiting"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_flag(self, submission) -> str | None:
        return submission.flag_reason or None


def moderation_for(submission, request) -> dict | None:
    user = getattr(request, "user", None)
    if user is None or not (user.is_staff or user.pk == submission.owner_id):
        return None
    return ModerationSerializer(submission).data

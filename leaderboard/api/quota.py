"""The quota on the API: where a user stands (GET /api/submissions/quota/, and in each 201), and refusals."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from leaderboard.api.schemas import ErrorSerializer
from leaderboard.api.serializers import SubmissionSerializer
from leaderboard.quotas import Quota, SubmissionRefused, in_flight_count, max_in_flight


class TestSetQuotaSerializer(serializers.Serializer):
    """One test set; the limits are null for staff, who are exempt."""

    testset = serializers.CharField()
    daily_quota = serializers.IntegerField(allow_null=True, help_text="submissions in any 24 hours")
    used = serializers.IntegerField(help_text="counted submissions of the last 24 hours, failed ones included")
    remaining = serializers.IntegerField(allow_null=True)
    resets_at = serializers.DateTimeField(
        allow_null=True, help_text="when a counted submission next leaves the 24 hours, freeing a slot"
    )


class QuotaSerializer(serializers.Serializer):
    exempt = serializers.BooleanField(help_text="staff: no daily quota and no cap on evaluations in flight")
    in_flight = serializers.IntegerField(help_text="evaluations queued, running or scoring, on every test set")
    max_in_flight = serializers.IntegerField(allow_null=True)
    testsets = TestSetQuotaSerializer(many=True)


def quota_body(owner, testsets: list[Quota]) -> dict:
    standing = {
        "exempt": owner.is_staff,
        "in_flight": in_flight_count(owner),
        "max_in_flight": max_in_flight(owner),
        "testsets": testsets,
    }
    return QuotaSerializer(standing).data


class SubmissionCreatedSerializer(SubmissionSerializer):
    """The 201 answer: the submission, and the submitter's quota on its test set after it."""

    quota = serializers.SerializerMethodField()

    class Meta(SubmissionSerializer.Meta):
        fields = [*SubmissionSerializer.Meta.fields, "quota"]

    @extend_schema_field(QuotaSerializer)
    def get_quota(self, submission) -> dict:
        return quota_body(submission.owner, [self.context["quota"]])


# The refusals create_submission gives (leaderboard/quotas.py); AutoSchema adds Retry-After to the 429.
REFUSALS = {
    403: OpenApiResponse(ErrorSerializer, description="the test set takes no submissions (its daily quota is 0)"),
    409: OpenApiResponse(ErrorSerializer, description="a duplicate: the sentence links the earlier submission"),
    429: OpenApiResponse(
        ErrorSerializer,
        description="the daily quota (Retry-After: until the oldest counted submission leaves the 24 hours), the "
        "cap on evaluations in flight (Retry-After: an estimate) or the submit throttle",
    ),
}


def refusal_response(refusal: SubmissionRefused, request) -> Response:
    headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else {}
    return Response({"error": refusal.text(request.build_absolute_uri)}, status=refusal.status, headers=headers)

"""API views: submissions (create, list, read, cancel), test sets, leaderboards."""

from __future__ import annotations

from pathlib import Path

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from leaderboard.api.serializers import SubmissionCreateSerializer, SubmissionSerializer, TestSetSerializer
from leaderboard.models import InvalidTransition, Status, Submission, TestSet
from leaderboard.ranking import COLUMNS, LOSSES, current_label_set, leaderboard_rows
from leaderboard.submitting import create_submission
from plugins.contracts import ModelSource


class SubmissionViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Anyone reads public submissions; a signed-in user submits and sees their own, hidden ones included."""

    serializer_class = SubmissionSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filterset_fields = ["status", "testset__name"]

    def get_queryset(self):
        queryset = Submission.objects.select_related("owner", "testset").prefetch_related(
            "results__label_set", "results__slices"
        )
        user = self.request.user
        if user.is_staff:
            return queryset
        if user.is_authenticated:
            return queryset.filter(Q(hidden=False) | Q(owner=user))
        return queryset.filter(hidden=False)

    @extend_schema(request=SubmissionCreateSerializer, responses={201: SubmissionSerializer})
    def create(self, request, *args, **kwargs):
        incoming = SubmissionCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        upload = data.get("model_file")
        source = ModelSource(Path(upload.temporary_file_path()) if upload else None, data["model_identifier"].strip())
        submission = create_submission(
            request.user,
            data["testset"],
            data["name"],
            source,
            data["preprocessing"],
            data["model_format"],
            data["description"],
        )
        body = SubmissionSerializer(submission, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: SubmissionSerializer})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def cancel(self, request, pk=None):
        submission = self.get_object()
        if submission.owner != request.user and not request.user.is_staff:
            raise PermissionDenied("only the submitter or staff can cancel a submission")
        try:
            submission.move_to(Status.CANCELLED)
        except InvalidTransition:
            return Response(
                {"error": f"a {submission.status} submission cannot be cancelled"}, status=status.HTTP_409_CONFLICT
            )
        return Response(SubmissionSerializer(submission, context={"request": request}).data)


class TestSetViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = TestSet.objects.prefetch_related("label_sets")
    serializer_class = TestSetSerializer
    lookup_field = "name"

    @action(detail=True, methods=["get"])
    def leaderboard(self, request, name=None):
        """Ranked done submissions under a label set (?label_set=original, the current version by default)."""
        testset = self.get_object()
        label_set_name = request.query_params.get("label_set", "original")
        label_set = current_label_set(testset, label_set_name)
        rows = leaderboard_rows(testset, label_set)
        protocol = label_set.protocol if label_set else None
        return Response(
            {
                "testset": testset.name,
                "label_set": label_set_name,
                "protocol": protocol,
                "columns": [
                    {"metric": key, "title": title, "lower_is_better": key in LOSSES}
                    for key, title in COLUMNS.get(protocol, [])
                ],
                "rows": [
                    {
                        "rank": row.rank,
                        "submission": row.result.submission_id,
                        "name": row.result.submission.name,
                        "owner": row.result.submission.owner.username,
                        "metrics": row.result.metrics,
                        "intervals": row.result.intervals,
                        "label_set_version": row.result.label_set.version,
                        "beside": {name: other.metrics for name, other in row.others.items() if name != label_set_name},
                        "p_value_next": row.p_value_next,
                        "tied_with_next": row.tied_with_next,
                        "finished_at": row.result.submission.finished_at,
                        "efficiency": row.result.submission.efficiency,
                    }
                    for row in rows
                ],
            }
        )

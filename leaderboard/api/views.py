"""API views: submissions (create, list, read, cancel), test sets, leaderboards."""

from __future__ import annotations

from pathlib import Path

from django.core.validators import slug_re
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser
from rest_framework.response import Response

from leaderboard import moderating
from leaderboard.api.parsers import JSONParser, MultiPartParser
from leaderboard.api.quota import (
    REFUSALS,
    QuotaSerializer,
    SubmissionCreatedSerializer,
    quota_body,
    refusal_response,
)
from leaderboard.api.schemas import LeaderboardSerializer
from leaderboard.api.serializers import SubmissionCreateSerializer, SubmissionSerializer, TestSetSerializer
from leaderboard.disclosure import board
from leaderboard.models import InvalidTransition, Status, Submission, TestSet
from leaderboard.quotas import SubmissionRefused, quota_for
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
        # who sees what: leaderboard/models/visibility.py (others' failed, hidden, unapproved ones are a 404)
        visible = Submission.objects.visible_to(self.request.user)
        return visible.select_related("owner", "testset").prefetch_related("results__label_set", "results__slices")

    @extend_schema(
        request=SubmissionCreateSerializer,
        responses={201: SubmissionCreatedSerializer, **REFUSALS},
    )
    def create(self, request, *args, **kwargs):
        incoming = SubmissionCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        upload = data.get("model_file")
        source = ModelSource(Path(upload.temporary_file_path()) if upload else None, data["model_identifier"].strip())
        try:
            submission = create_submission(
                request.user,
                data["testset"],
                data["name"],
                source,
                data["preprocessing"],
                data["model_format"],
                data["description"],
            )
        except SubmissionRefused as refusal:
            return refusal_response(refusal, request)
        context = {"request": request, "quota": quota_for(request.user, submission.testset)}
        body = SubmissionCreatedSerializer(submission, context=context).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("testset", str, description="one test set's name; default: every test set")],
        responses={200: QuotaSerializer},
    )
    @action(detail=False, methods=["get"], permission_classes=[permissions.IsAuthenticated])
    def quota(self, request, *args, **kwargs):  # kwargs: `format` from a suffix such as quota.json
        """The caller's daily quota per test set (remaining, and when a slot frees) and evaluations in flight."""
        testsets = TestSet.objects.all()
        if "testset" in request.query_params:
            name = request.query_params["testset"]
            # names are slugs; anything else (a NUL byte, which PostgreSQL refuses) cannot name one
            testsets = testsets.filter(name=name) if slug_re.match(name) else testsets.none()
            if not testsets:
                raise NotFound(f"no test set is named {name!r}")
        return Response(quota_body(request.user, [quota_for(request.user, testset) for testset in testsets]))

    @extend_schema(request=None, responses={200: SubmissionSerializer})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def cancel(self, request, pk=None):
        submission = self.get_object()
        if submission.owner != request.user and not request.user.is_staff:
            raise PermissionDenied("only the submitter or staff can cancel a submission")
        try:
            if submission.owner == request.user:
                submission.move_to(Status.CANCELLED)
            else:  # staff cancelling someone else's evaluation: a moderation action, audited
                moderating.cancel(submission, request.user)
        except InvalidTransition:
            return Response(
                {"error": f"a {submission.status} submission cannot be cancelled"}, status=status.HTTP_409_CONFLICT
            )
        return Response(SubmissionSerializer(submission, context={"request": request}).data)


class TestSetViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = TestSet.objects.prefetch_related("label_sets")
    serializer_class = TestSetSerializer
    lookup_field = "name"

    @extend_schema(
        parameters=[
            OpenApiParameter("label_set", str, description="which label set ranks the board; default: original")
        ],
        responses={200: LeaderboardSerializer},
    )
    @action(detail=True, methods=["get"])
    def leaderboard(self, request, name=None, format=None):
        """Ranked done submissions under a label set (?label_set=original, the current version by default)."""
        testset = self.get_object()
        label_set_name = request.query_params.get("label_set", "original")
        label_set = current_label_set(testset, label_set_name)
        rows = leaderboard_rows(testset, label_set)
        protocol = label_set.protocol if label_set else None
        # what this user may see: figures over too few examples are for staff only (leaderboard/disclosure.py)
        shown = board(rows, COLUMNS.get(protocol, []), request.user, label_set_name)
        return Response(
            {
                "testset": testset.name,
                "label_set": label_set_name,
                "protocol": protocol,
                "columns": [
                    {"metric": key, "title": title, "lower_is_better": key in LOSSES} for key, title in shown.columns
                ],
                "staff_only_columns": [
                    {"metric": key, "title": title, "reason": why} for key, title, why in shown.withheld_columns
                ],
                "rows": [
                    {
                        "rank": row.row.rank,
                        "submission": row.row.result.submission_id,
                        "name": row.row.result.submission.name,
                        "owner": row.row.result.submission.owner.username,
                        "metrics": row.figures.metrics,
                        "intervals": row.figures.intervals,
                        "staff_only": row.figures.staff_only,
                        "label_set_version": row.row.result.label_set.version,
                        "beside": row.beside,
                        "p_value_next": row.row.p_value_next,
                        "tied_with_next": row.row.tied_with_next,
                        "overtaken_at": row.overtaken_at,
                        "finished_at": row.row.result.submission.finished_at,
                        "efficiency": row.row.result.submission.efficiency,
                    }
                    for row in shown.rows
                ],
            }
        )

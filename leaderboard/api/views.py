"""API views: submissions (create, list, read, cancel), test sets, leaderboards."""

from __future__ import annotations

from pathlib import Path

from django.core.validators import slug_re
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from leaderboard import board_cache, moderating
from leaderboard.api.parsers import JSONParser, MultiPartParser
from leaderboard.api.quota import (
    REFUSALS,
    QuotaSerializer,
    SubmissionCreatedSerializer,
    quota_body,
    refusal_response,
)
from leaderboard.api.renderers import CSVRenderer
from leaderboard.api.schemas import BOARD_PARAMETERS, LeaderboardSerializer
from leaderboard.api.serializers import SubmissionCreateSerializer, SubmissionSerializer, TestSetSerializer
from leaderboard.boards import EXPORTS, BoardError, BoardQuery, board_body
from leaderboard.models import CARD_FIELDS, InvalidTransition, Status, Submission, TestSet
from leaderboard.quotas import SubmissionRefused, quota_for
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
                {field: data[field] for field in CARD_FIELDS},
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

    def get_object(self):
        try:
            return super().get_object()
        except Http404:  # DRF's "No TestSet matches the given query." names nothing the caller typed
            name = str(self.kwargs.get(self.lookup_field, ""))[:60]
            names = ", ".join(TestSet.objects.order_by("name").values_list("name", flat=True)) or "none yet"
            raise NotFound(f"no test set is named {name!r} (test sets: {names})") from None

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # ?format= names no renderer: say what it does here instead of DRF's bare 404
            asked = request.query_params.get(api_settings.URL_FORMAT_OVERRIDE, "")
            raise ValidationError(
                f"format={asked[:40]!r} is not an export: format=csv or format=json exports the board; "
                "model_format= filters it by model format"
            ) from None

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code >= 400 and getattr(request, "accepted_renderer", None).__class__ is CSVRenderer:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        parameters=BOARD_PARAMETERS,
        responses={
            (200, "application/json"): LeaderboardSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="format=csv: every row of the filtered, sorted board"
            ),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer])
    def leaderboard(self, request, name=None, format=None):
        """One page of a board (a label set version's ranking), filtered and sorted; format=csv or format=json
        streams every row of the filtered board instead of a page."""
        testset = self.get_object()
        label_sets = testset.label_sets.all()  # prefetched first: the stamps the cache keys read (board_cache)
        params, user = request.query_params, request.user
        # ?format=, a .csv suffix, or Accept: text/csv (content negotiation chose the CSV renderer)
        export = format or params.get(api_settings.URL_FORMAT_OVERRIDE)
        if export is None and isinstance(request.accepted_renderer, CSVRenderer):
            export = "csv"
        if export in EXPORTS:
            try:
                query = BoardQuery.parse(testset, params, user)
            except BoardError as error:
                raise _refusal(error.status, str(error)) from None
            return board_cache.export_response(query, export, label_sets)
        here = request.build_absolute_uri(request.path)  # the page's links name it
        answer = board_cache.get_or_make(
            board_cache.key("api", label_sets, params, user, testset.pk, here), lambda: _board_page(testset, request)
        )
        if "error" in answer:
            raise _refusal(answer["status"], answer["error"])
        return Response(answer["body"])


def _refusal(status: int, message: str) -> Exception:
    """A board's BoardError as DRF answers it: 404 or 400, with its sentence."""
    return (NotFound if status == 404 else ValidationError)(message)


def _board_page(testset: TestSet, request) -> dict:
    """One page of the board as the API answers it, or why there is none: what the cache keeps."""
    try:
        query = BoardQuery.parse(testset, request.query_params, request.user)
        count = query.count()
        rows = query.page_rows(count)
    except BoardError as error:
        return {"status": error.status, "error": str(error)}
    return {"body": board_body(query, query.shown(rows), count, request)}

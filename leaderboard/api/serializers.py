"""What the API shows and accepts. Hidden labels and worker paths never appear here."""

from __future__ import annotations

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leaderboard.api.moderation import ModerationSerializer, moderation_for
from leaderboard.api.parsers import NESTED_TOO_DEEPLY
from leaderboard.api.schemas import RecipeField
from leaderboard.columns import is_loss
from leaderboard.disclosure import Figures, submission_figures
from leaderboard.models import Result, Submission, TestSet
from plugins.recipe import RECIPE_FIELDS


class TestSetSerializer(serializers.ModelSerializer):
    label_sets = serializers.SerializerMethodField()

    class Meta:
        model = TestSet
        fields = ["name", "title", "version", "num_examples", "class_names", "default_preprocessing", "label_sets"]

    def get_label_sets(self, testset) -> list[dict]:
        return [
            {"name": ls.name, "protocol": ls.protocol, "version": ls.version, "current": ls.is_current}
            for ls in testset.label_sets.all()
        ]


class ResultSerializer(serializers.ModelSerializer):
    """A result as the requesting user may see it: figures over fewer than ZOOBOARD_MIN_SLICE examples, and
    slices that would give them away, are left out for everyone but staff (leaderboard/disclosure.py)."""

    label_set = serializers.CharField(source="label_set.name")
    label_set_version = serializers.IntegerField(source="label_set.version")
    protocol = serializers.CharField(source="label_set.protocol")
    headline = serializers.SerializerMethodField()
    metrics = serializers.SerializerMethodField()
    intervals = serializers.SerializerMethodField(help_text="metric -> [low, high], 95%")
    summaries = serializers.SerializerMethodField(help_text="slicer -> worst slice, and other summaries")
    curves = serializers.SerializerMethodField()
    slices = serializers.SerializerMethodField()
    staff_only = serializers.SerializerMethodField(
        help_text="the figures shown to staff only, and why: metrics, curves, summaries -> name -> reason; "
        "slices -> slicer -> slice -> reason (left out of this response unless you are staff)"
    )
    lower_is_better = serializers.SerializerMethodField()

    class Meta:
        model = Result
        fields = [
            "label_set",
            "label_set_version",
            "protocol",
            "headline_metric",
            "headline",
            "metrics",
            "lower_is_better",
            "intervals",
            "counts",
            "summaries",
            "curves",
            "slices",
            "staff_only",
        ]

    def _figures(self, result) -> Figures:
        """Decided once per submission, for all its results together (a slice withheld under one label set is
        withheld under all), and kept in the serializer's context for the other fields."""
        decided = self.context.setdefault("disclosed_figures", {})
        if result.pk not in decided:
            request = self.context.get("request")
            submission = result.submission
            group = list(submission.results.all())
            group += [result] if result.pk not in {other.pk for other in group} else []
            figures = submission_figures(group, request.user if request else None, submission.testset.num_examples)
            decided.update({other.pk: shown for other, shown in zip(group, figures, strict=True)})
        return decided[result.pk]

    def get_headline(self, result) -> float | None:
        return self._figures(result).metrics.get(result.headline_metric)

    def get_metrics(self, result) -> dict[str, float | None]:
        return self._figures(result).metrics

    def get_intervals(self, result) -> dict[str, list[float | None]]:
        return self._figures(result).intervals

    def get_summaries(self, result) -> dict:
        return self._figures(result).summaries

    def get_curves(self, result) -> dict[str, list[list[float]]]:
        return self._figures(result).curves

    def get_staff_only(self, result) -> dict:
        return self._figures(result).staff_only

    def get_lower_is_better(self, result) -> list[str]:
        """The metrics that are losses (ECE, NLL, ...): plain numbers, where the others are shares of examples."""
        return [name for name in self._figures(result).metrics if is_loss(name)]

    def get_slices(self, result) -> list[dict]:
        """The slices this user may see: see staff_only for those left out."""
        return [
            {
                "slicer": item.slicer,
                "name": item.name,
                "count": item.count,
                "metrics": item.metrics,
                "intervals": item.intervals,
            }
            for item in self._figures(result).slices
        ]


class SubmissionSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    preprocessing = RecipeField(read_only=True, help_text="the resolved recipe the model is evaluated with")
    testset = serializers.CharField(source="testset.name")
    progress = serializers.SerializerMethodField()
    waiting_for_broker = serializers.BooleanField(
        read_only=True, help_text="queued but not yet handed to the evaluators' broker; it is sent when it answers"
    )
    results = ResultSerializer(many=True, read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api-submission-detail")
    moderation = serializers.SerializerMethodField(help_text="hidden, approval and flag: for the submitter and staff")

    class Meta:
        model = Submission
        fields = [
            "id",
            "url",
            "name",
            "owner",
            "testset",
            "description",
            "paper_url",
            "code_url",
            "licence",
            "architecture",
            "model_format",
            "model_identifier",
            "preprocessing",
            "model_details",
            "status",
            "waiting_for_broker",
            "attempts",
            "progress",
            "error_message",
            "provider",
            "timings",
            "efficiency",
            "created_at",
            "started_at",
            "finished_at",
            "moderation",
            "results",
        ]

    def get_progress(self, submission) -> dict:
        return {"done": submission.progress_done, "total": submission.progress_total}

    @extend_schema_field(ModerationSerializer(allow_null=True))
    def get_moderation(self, submission) -> dict | None:
        return moderation_for(submission, self.context.get("request"))


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {},
        "description": "recipe values over the model's and the test set's (in a form, this object as a JSON "
        "string): " + ", ".join(RECIPE_FIELDS),
    }
)
class JSONObjectField(serializers.Field):
    """A JSON object given as an object (JSON body) or as a string (a multipart form field)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except RecursionError:
                raise serializers.ValidationError(f"the JSON is {NESTED_TOO_DEEPLY}") from None
            except json.JSONDecodeError as error:
                raise serializers.ValidationError(f"not valid JSON: {error}") from None
            except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
                raise serializers.ValidationError("the JSON holds a number too long to read") from None
        if not isinstance(data, dict):
            raise serializers.ValidationError("must be a JSON object of recipe values")
        return data

    def to_representation(self, value):
        return value


class SubmissionCreateSerializer(serializers.Serializer):
    # a CharField, not a SlugRelatedField: it refuses a NUL character before PostgreSQL is asked (a DataError)
    testset = serializers.CharField(help_text="the test set's name, e.g. cifar10")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000, help_text="the model card's text"
    )
    paper_url = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500, help_text="the paper (http or https)"
    )
    code_url = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500, help_text="the training code (http or https)"
    )
    licence = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100, help_text="of the weights, e.g. Apache-2.0"
    )
    model_format = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="onnx, timm, or a plugin's; default: from the identifier or onnx",
    )
    model_identifier = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300, help_text="e.g. timm:resnet18.a1_in1k"
    )
    architecture = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text="the architecture family, e.g. resnet (boards filter by it); default: what the format finds",
    )
    # empty files reach the format's own check, which says so in the same words everywhere
    model_file = serializers.FileField(
        required=False, allow_empty_file=True, help_text="an ONNX file, or safetensors weights for timm"
    )
    preprocessing = JSONObjectField(required=False, default=dict)

    def validate_testset(self, name: str) -> TestSet:
        testset = TestSet.objects.filter(name=name).first()
        if testset is None:
            raise serializers.ValidationError(f"no test set is named {name!r}")
        return testset

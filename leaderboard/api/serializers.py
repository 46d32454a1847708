"""What the API shows and accepts. Hidden labels and worker paths never appear here."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework import serializers

from leaderboard.models import Result, Submission, TestSet
from leaderboard.ranking import LOSSES


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
    label_set = serializers.CharField(source="label_set.name")
    label_set_version = serializers.IntegerField(source="label_set.version")
    protocol = serializers.CharField(source="label_set.protocol")
    slices = serializers.SerializerMethodField()
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
        ]

    def get_lower_is_better(self, result) -> list[str]:
        """The metrics that are losses (ECE, NLL, ...): plain numbers, where the others are shares of examples."""
        return [name for name in result.metrics if name in LOSSES]

    def get_slices(self, result) -> list[dict]:
        """Slices below ZOOBOARD_MIN_SLICE images only for staff: tiny slices would leak per-example labels."""
        request = self.context.get("request")
        is_staff = bool(request and request.user.is_staff)
        return [
            {
                "slicer": item.slicer,
                "name": item.name,
                "count": item.count,
                "metrics": item.metrics,
                "intervals": item.intervals,
            }
            for item in result.slices.all()
            if is_staff or item.count >= settings.ZOOBOARD_MIN_SLICE
        ]


class SubmissionSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    testset = serializers.CharField(source="testset.name")
    progress = serializers.SerializerMethodField()
    results = ResultSerializer(many=True, read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api-submission-detail")

    class Meta:
        model = Submission
        fields = [
            "id",
            "url",
            "name",
            "owner",
            "testset",
            "model_format",
            "model_identifier",
            "preprocessing",
            "model_details",
            "status",
            "progress",
            "error_message",
            "provider",
            "timings",
            "efficiency",
            "created_at",
            "started_at",
            "finished_at",
            "results",
        ]

    def get_progress(self, submission) -> dict:
        return {"done": submission.progress_done, "total": submission.progress_total}


class JSONObjectField(serializers.Field):
    """A JSON object given as an object (JSON body) or as a string (a multipart form field)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except json.JSONDecodeError as error:
                raise serializers.ValidationError(f"not valid JSON: {error}") from None
        if not isinstance(data, dict):
            raise serializers.ValidationError("must be a JSON object of recipe values")
        return data

    def to_representation(self, value):
        return value


class SubmissionCreateSerializer(serializers.Serializer):
    testset = serializers.SlugRelatedField(slug_field="name", queryset=TestSet.objects.all())
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    model_format = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="onnx, timm, or a plugin's; default: from the identifier or onnx",
    )
    model_identifier = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300, help_text="e.g. timm:resnet18.a1_in1k"
    )
    # empty files reach the format's own check, which says so in the same words everywhere
    model_file = serializers.FileField(
        required=False, allow_empty_file=True, help_text="an ONNX file, or safetensors weights for timm"
    )
    preprocessing = JSONObjectField(required=False, default=dict)

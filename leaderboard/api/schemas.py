"""The OpenAPI schema as served: the leaderboard's parameters and answer, the recipe as an object, and the
{"error": ...} answers every operation can give (added to each by AutoSchema, REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS)."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import serializers

from plugins.recipe import CHANNEL_ORDERS, INTERPOLATIONS, OUTPUT_KINDS, RESIZE_MODES, VALUE_RANGES

THREE_NUMBERS = {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3}
RECIPE_SCHEMA = {
    "type": "object",
    "description": "the resolved recipe: how a test image becomes the model's input (plugins/recipe.py)",
    "properties": {
        "input_size": {"type": "integer", "minimum": 8, "maximum": 1024},
        "resize": {"type": "string", "enum": list(RESIZE_MODES)},
        "crop_pct": {"type": "number", "minimum": 0.05, "maximum": 1},
        "interpolation": {"type": "string", "enum": list(INTERPOLATIONS)},
        "mean": THREE_NUMBERS,
        "std": THREE_NUMBERS,
        "value_range": {"type": "number", "enum": list(VALUE_RANGES)},
        "channel_order": {"type": "string", "enum": list(CHANNEL_ORDERS)},
        "output": {"type": "string", "enum": list(OUTPUT_KINDS)},
    },
}


@extend_schema_field(RECIPE_SCHEMA)
class RecipeField(serializers.JSONField):
    """A submission's stored recipe, shown as it is stored (Recipe.to_dict)."""


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="one sentence saying what went wrong and, where it can, what to do")


# What each error status means on this API; every operation documents those it can give.
ERRORS = {
    400: "the request is malformed or refused (a bad model, recipe, limit, offset or filter): the sentence says why",
    401: "the token is wrong or expired, or the operation needs one",
    403: "signed in, but not allowed to do this",
    404: "nothing is here, or nothing this user may see",
    409: "in conflict with the submission as it stands (e.g. cancelling a finished one), or a duplicate",
    413: "the request is over ZOOBOARD_MAX_UPLOAD_MB, or its fields over 10 MB",
    415: "a request body of a type the operation does not read",
    429: "too many requests: Retry-After says when to try again",
    503: "the database is unavailable for a moment: Retry-After says when to try again",
}
READ_ERRORS = (400, 401, 403, 404, 429, 503)
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait before trying again"}}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's, plus the error answers each operation can give, where the view does not document them."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        codes = READ_ERRORS if self.method in ("GET", "HEAD") else tuple(ERRORS)
        for code in codes:
            if str(code) not in responses:
                error = OpenApiResponse(ErrorSerializer, description=ERRORS[code])
                responses[str(code)] = self._get_response_for_code(error, str(code), direction=direction)
            if code in (429, 503):
                responses[str(code)].setdefault("headers", {}).update(RETRY_AFTER)
        return dict(sorted(responses.items()))


class ColumnSerializer(serializers.Serializer):
    metric = serializers.CharField()
    title = serializers.CharField()
    lower_is_better = serializers.BooleanField(help_text="a loss (ECE, NLL, ...): sorted ascending by default")


class WithheldColumnSerializer(serializers.Serializer):
    metric = serializers.CharField()
    title = serializers.CharField()
    reason = serializers.CharField(help_text="why this user does not see it (ZOOBOARD_MIN_SLICE)")


class BesideSerializer(serializers.Serializer):
    label_set = serializers.CharField()
    version = serializers.IntegerField()
    metric = serializers.CharField(help_text="its headline, shown beside each row (rows[].beside)")
    title = serializers.CharField()


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(min_value=1, help_text="position by the headline, earlier first on ties")
    interval_rank = serializers.IntegerField(
        min_value=1, help_text="1 + the entries whose 95% interval lies wholly on the better side of this one's"
    )
    submission = serializers.IntegerField(help_text="the submission's id")
    name = serializers.CharField()
    owner = serializers.CharField()
    model_format = serializers.CharField()
    architecture = serializers.CharField(allow_blank=True)
    baseline = serializers.BooleanField(help_text="a reference model, marked by the moderators")
    metrics = serializers.DictField(child=serializers.FloatField(allow_null=True), help_text="metric -> value")
    intervals = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
        help_text="metric -> [low, high], 95%",
    )
    staff_only = serializers.DictField(help_text="figures withheld from this user: kind -> name -> why")
    label_set_version = serializers.IntegerField()
    beside = serializers.DictField(
        child=serializers.DictField(child=serializers.FloatField(allow_null=True)),
        help_text="the submission's metrics under the test set's other label sets",
    )
    tie_test = serializers.ChoiceField(
        choices=["mcnemar", "paired-t", "intervals"],
        allow_null=True,
        help_text="how the tie with the next entry was decided; null for the last entry",
    )
    p_value_next = serializers.FloatField(allow_null=True, help_text="the paired test's p-value against the next entry")
    tied_with_next = serializers.BooleanField()
    overtaken_at = serializers.FloatField(
        allow_null=True, help_text="label-noise prevalence at which the next row's curve reaches this one's"
    )
    finished_at = serializers.DateTimeField(allow_null=True)
    efficiency = serializers.DictField(help_text="what running the model cost (size, speed, memory) and where")
    paper_url = serializers.CharField(help_text="the model card's paper link; empty when not given")
    code_url = serializers.CharField(help_text="the model card's code link; empty when not given")


class LeaderboardSerializer(serializers.Serializer):
    testset = serializers.CharField()
    label_set = serializers.CharField()
    version = serializers.IntegerField(help_text="the label set version ranked (the current one unless ?version=)")
    current = serializers.BooleanField(help_text="whether that version is the current one")
    protocol = serializers.CharField()
    sort = serializers.CharField()
    order = serializers.ChoiceField(choices=["asc", "desc"])
    filters = serializers.DictField(child=serializers.CharField(), help_text="the filters applied")
    count = serializers.IntegerField(min_value=0, help_text="entries matching the filters")
    page = serializers.IntegerField(min_value=1)
    per_page = serializers.IntegerField(min_value=1)
    pages = serializers.IntegerField(min_value=1)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    columns = ColumnSerializer(many=True)
    staff_only_columns = WithheldColumnSerializer(many=True)
    beside = BesideSerializer(many=True)
    baselines = LeaderboardRowSerializer(many=True, help_text="the board's baselines, pinned whatever the filters")
    rows = LeaderboardRowSerializer(many=True)


BOARD_PARAMETERS = [
    OpenApiParameter("label_set", str, description="which label set ranks the board; default: original"),
    OpenApiParameter("version", int, description="a label set version; default: the current one"),
    OpenApiParameter(
        "sort",
        str,
        description="a column: one of the board's metrics (see columns), another label set's name (its headline), "
        "rank, interval_rank, params, gmacs, throughput, latency, name, owner or evaluated; default: rank",
    ),
    OpenApiParameter("order", str, enum=["asc", "desc"], description="default: the column's own direction"),
    OpenApiParameter("model_format", str, description="only this model format (onnx, timm, a plugin's)"),
    OpenApiParameter("arch", str, description="only this architecture family, e.g. resnet"),
    OpenApiParameter("params_min", float, description="at least this many parameters"),
    OpenApiParameter("params_max", float, description="at most this many parameters"),
    OpenApiParameter("owner", str, description="only this submitter's entries"),
    OpenApiParameter("since", OpenApiTypes.DATE, description="evaluated on or after this day (UTC)"),
    OpenApiParameter("until", OpenApiTypes.DATE, description="evaluated on or before this day (UTC)"),
    OpenApiParameter("q", str, description="text in the entry's name"),
    OpenApiParameter("page", int, description="default: 1"),
    OpenApiParameter("per_page", int, description="default: 50, at most 200"),
    OpenApiParameter(
        "format",
        str,
        enum=["csv", "json"],
        description="export every row of the filtered, sorted board instead of a page, streamed",
    ),
]

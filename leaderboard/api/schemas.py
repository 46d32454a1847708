"""The OpenAPI schema as served: the leaderboard's answer, the recipe as an object, and the {"error": ...}
answers every operation can give (added to each by AutoSchema, REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS)."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
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
    lower_is_better = serializers.BooleanField(help_text="a loss (ECE, NLL, ...) rather than a share of examples")


class WithheldColumnSerializer(serializers.Serializer):
    metric = serializers.CharField()
    title = serializers.CharField()
    reason = serializers.CharField(help_text="why this user does not see it (ZOOBOARD_MIN_SLICE)")


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(min_value=1)
    submission = serializers.IntegerField(help_text="the submission's id")
    name = serializers.CharField()
    owner = serializers.CharField()
    metrics = serializers.DictField(child=serializers.FloatField(allow_null=True), help_text="metric -> value")
    intervals = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField()), help_text="metric -> [low, high], 95%"
    )
    staff_only = serializers.DictField(help_text="figures withheld from this user: kind -> name -> why")
    label_set_version = serializers.IntegerField()
    beside = serializers.DictField(
        child=serializers.DictField(child=serializers.FloatField(allow_null=True)),
        help_text="the submission's metrics under the test set's other label sets",
    )
    p_value_next = serializers.FloatField(allow_null=True, help_text="exact McNemar against the next row")
    tied_with_next = serializers.BooleanField()
    overtaken_at = serializers.FloatField(
        allow_null=True, help_text="label-noise prevalence at which the next row's curve reaches this one's"
    )
    finished_at = serializers.DateTimeField(allow_null=True)
    efficiency = serializers.DictField(help_text="what running the model cost (size, speed, memory) and where")


class LeaderboardSerializer(serializers.Serializer):
    testset = serializers.CharField()
    label_set = serializers.CharField()
    protocol = serializers.CharField(allow_null=True, help_text="null where the test set has no such label set")
    columns = ColumnSerializer(many=True)
    staff_only_columns = WithheldColumnSerializer(many=True)
    rows = LeaderboardRowSerializer(many=True)

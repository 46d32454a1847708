"""Limit/offset pagination that refuses a limit or offset it cannot honour, instead of guessing or failing."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 200


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """DRF's LimitOffsetPagination, except that a malformed, negative or too large value is a 400 with a sentence.

    DRF silently falls back to the default for a negative or malformed value and passes a huge one on to the
    database, where 2^64 - 1 overflows PostgreSQL's bigint (a 500).
    """

    max_limit = MAX_LIMIT

    def get_limit(self, request):
        value = request.query_params.get(self.limit_query_param)
        if value is None:
            return self.default_limit
        return _whole_number(self.limit_query_param, value, 1, self.max_limit)

    def get_offset(self, request):
        value = request.query_params.get(self.offset_query_param)
        if value is None:
            return 0
        # an offset past the last row is an empty page, never sent to the database (see paginate_queryset)
        return _whole_number(self.offset_query_param, value, 0, None)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit, "default": self.default_limit},
            self.offset_query_param: {"minimum": 0, "default": 0},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


def _whole_number(name: str, value: str, low: int, high: int | None) -> int:
    allowed = f"from {low} to {high}" if high is not None else f"of at least {low}"
    try:
        number = int(value)
    except ValueError:  # not digits, or more of them than Python converts
        number = None
    if number is None or number < low or (high is not None and number > high):
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise ValidationError(f"{name} must be a whole number {allowed}, not {shown!r}")
    return number

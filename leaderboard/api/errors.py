"""Every API error as {"error": "one sentence"} with the right status, as healthchecks' API does."""

from __future__ import annotations

from rest_framework.views import exception_handler as drf_exception_handler

from plugins.errors import SubmissionError


def _sentence(detail) -> str:
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = _sentence(value)
            parts.append(text if field in ("error", "non_field_errors", "detail") else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(detail, list):
        return "; ".join(_sentence(item) for item in detail)
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, SubmissionError):
        from rest_framework.exceptions import ValidationError

        exc = ValidationError({"error": str(exc)})
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = {"error": _sentence(response.data)}
    return response

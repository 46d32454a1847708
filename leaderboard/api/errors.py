"""Every API error as {"error": "one sentence"} with the right status, as healthchecks' API does: DRF's through
its exception handler, Django's own (config/urls.py's handlers) and the middleware's 413 and 503 under /api/."""

from __future__ import annotations

import logging
import sys
import uuid

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler as drf_exception_handler

from plugins.errors import SubmissionError

log = logging.getLogger(__name__)

# What Django raises when the database cannot be reached or the connection broke (psycopg's are wrapped in these)
DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def error_response(message: str, status: int, **headers: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status, headers=headers)


def error_page(request: HttpRequest, message: str, status: int, **headers: str) -> HttpResponse:
    """{"error": message} under /api/, else a page of its own: rendered without the request, so that it needs
    no session, user or database."""
    if is_api(request):
        return error_response(message, status, **headers)
    html = render_to_string("error.html", {"status": status, "message": message})
    return HttpResponse(html, status=status, headers=headers)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    message = f"the site's database is unavailable for a moment; try again in {RETRY_AFTER_SECONDS} seconds"
    return error_page(request, message, 503, **{"Retry-After": str(RETRY_AFTER_SECONDS)})


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
        exc = ValidationError({"error": str(exc)})
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = {"error": _sentence(response.data)}
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400s: a malformed multipart body, too many form fields, a bad Host header, ..."""
    if not is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20
        return error_response(f"the request's fields are over {limit:g} MB; only the model file may be larger", 413)
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return error_response("the request has too many fields or files", 400)
    return error_response("the request is malformed and was refused", 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api(request):
        return defaults.permission_denied(request, exception)
    return error_response(str(exception) or "you may not do this", 403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return error_response(f"there is no API endpoint at {request.path}; the API is described at /api/docs/", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Called by Django inside its except block, so sys.exc_info() is the error: a database outage raised where
    the middleware does not see it (another middleware's query) is a 503 too, never a 500."""
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return database_unavailable(request)
    if not is_api(request):
        return defaults.server_error(request)
    error_id = uuid.uuid4().hex[:12]
    log.error("internal error %s on %s %s (the traceback follows)", error_id, request.method, request.path)
    return error_response(f"internal error, the operators were told (id {error_id})", 500)

"""Answers no view should have to give: an upload over the size limit, refused from its Content-Length before the
body is read; a NUL character in the path or query; 503 while the database is down."""

from __future__ import annotations

import logging

from django.conf import settings

from leaderboard.api.errors import DATABASE_ERRORS, database_unavailable, error_page

log = logging.getLogger(__name__)

BODY_METHODS = ("POST", "PUT", "PATCH")


class UploadLimitMiddleware:
    """413 for a request whose Content-Length is over ZOOBOARD_MAX_UPLOAD_MB plus what the form fields may hold.

    Django itself would stream the whole body to a temporary file before the submit-time check refuses the
    model; answering from the header means a 2 GiB upload costs us nothing. Placed above CsrfViewMiddleware,
    which reads the form.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in BODY_METHODS:
            size = content_length(request.META)
            limit_mb = settings.ZOOBOARD_MAX_UPLOAD_MB
            if size > limit_mb * 2**20 + settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                message = (
                    f"the request is {size / 2**20:,.0f} MB; a model file may be at most {limit_mb} MB "
                    f"(ZOOBOARD_MAX_UPLOAD_MB)"
                )
                return error_page(request, message, 413)
        return self.get_response(request)


class NulCharacterMiddleware:
    """400 for a NUL character (%00) in the path or the query string: no name, id or filter of ours holds one,
    and PostgreSQL refuses to compare text with it (a DataError, so a 500, wherever a view looks it up)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _nul_in_query(request):
            return error_page(request, "the address contains a NUL character (%00)", 400)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A view that finds the database down (refused, dropped, restarting) answers 503 with Retry-After.

    Errors raised outside views (another middleware's query) reach config/urls.py's handler500, which answers
    the same; both log one line for the operators rather than a traceback per request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        log.warning("database unavailable during %s %s: %s", request.method, request.path, exception)
        return database_unavailable(request)


def _nul_in_query(request) -> bool:
    return any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values)


def content_length(meta) -> int:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # as Django reads it: a malformed length is no body at all

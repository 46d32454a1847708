"""/healthz: whether this site process can answer, for the container's health check and a load balancer."""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse
from django.views.decorators.cache import never_cache


@never_cache
def health(request):
    """200 once the database answers; while it does not, DatabaseUnavailableMiddleware answers 503."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok\n", content_type="text/plain")

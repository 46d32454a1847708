"""DRF's API throttles (anonymous, per user, and submitting), counted in the shared cache so that every
gunicorn worker counts together; throttled requests get 429 with Retry-After."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

# POST to this route creates a submission (the router's name for the submissions collection).
SUBMIT_ROUTE = "api-submission-list"


class _CurrentRates:
    """DRF copies the rates into the class when it is defined; reading them per request lets a settings
    change (the tests' `settings` fixture) apply."""

    scope: str

    def get_rate(self):
        rates = api_settings.DEFAULT_THROTTLE_RATES
        if self.scope not in rates:
            raise ImproperlyConfigured(f"REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'] has no rate for {self.scope!r}")
        return rates[self.scope]


class AnonThrottle(_CurrentRates, AnonRateThrottle):
    """Requests without a signed-in user, per client address."""


class UserThrottle(_CurrentRates, UserRateThrottle):
    """Requests of a signed-in user (token or session), per user."""


class SubmitThrottle(_CurrentRates, UserRateThrottle):
    """Creating submissions, per user: refused ones count too, since checking an upload is the costly part.

    The daily quota (leaderboard/submitting.py) limits what is evaluated; this limits bursts of uploads.
    """

    scope = "submit"

    def allow_request(self, request, view):
        match = request.resolver_match
        if request.method != "POST" or match is None or match.url_name != SUBMIT_ROUTE:
            return True
        return super().allow_request(request, view)

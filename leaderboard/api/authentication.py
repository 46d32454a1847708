"""`Authorization: Token <key>`: django-rest-knox's hashed tokens, refused with a sentence that says why."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from rest_framework.exceptions import AuthenticationFailed

NOT_VALID = (
    "the API token is not valid: it was revoked, has expired or is mistyped; "
    "create a new one on the API tokens page (My submissions)"
)


class _DisabledAccount(AuthenticationFailed):
    pass


class ApiTokenAuthentication(TokenAuthentication):
    """knox's authentication, with sentences a user can act on instead of its bare "Invalid token."."""

    def authenticate_credentials(self, token: bytes):
        try:
            key = token.decode("utf-8")
        except UnicodeDecodeError:  # knox would let this through as a 500
            raise AuthenticationFailed(NOT_VALID) from None
        # knox deletes an expired token before comparing digests, so it cannot tell expired from unknown;
        # the digest is the primary key, so one lookup can.
        expired = get_token_model().objects.filter(digest=hash_token(key), expiry__lte=timezone.now()).first()
        if expired is not None:
            expired.delete()
            raise AuthenticationFailed(
                f"the API token {expired.name!r} expired on {expired.expiry:%Y-%m-%d %H:%M} UTC; "
                "create a new one on the API tokens page (My submissions)"
            )
        try:
            return super().authenticate_credentials(token)
        except _DisabledAccount:
            raise
        except AuthenticationFailed:
            raise AuthenticationFailed(NOT_VALID) from None

    def validate_user(self, auth_token):
        if not auth_token.user.is_active:
            raise _DisabledAccount("the account this API token belongs to is disabled")
        return auth_token.user, auth_token


class ApiTokenScheme(KnoxTokenScheme):
    """How the OpenAPI schema describes the header: drf-spectacular's knox scheme, for our subclass of knox's."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

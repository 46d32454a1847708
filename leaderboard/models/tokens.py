"""API tokens: django-rest-knox's tokens (only a digest is stored), each with the name its owner gave it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """A knox token with a name; knox uses this model in place of its own (KNOX_TOKEN_MODEL in the settings).

    The key itself is shown once, when the token is created; afterwards only its digest is kept. Revoking a
    token deletes it, as knox does with expired ones.
    """

    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @property
    def is_expired(self) -> bool:
        return self.expiry is not None and self.expiry <= timezone.now()

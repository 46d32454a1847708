"""Reading settings from the environment, refusing malformed values by name."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def strict_bool(name: str, default: bool) -> bool:
    """django-environ reads any unknown word as False; a typo in DEBUG should stop start-up instead."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw not in _TRUE | _FALSE:
        raise ImproperlyConfigured(f"{name} must be true or false (or 1/0, yes/no, on/off), not {raw!r}")
    return raw in _TRUE


def positive_int(name: str, default: int) -> int:
    raw = env.str(name, default=str(default))
    if not raw.isdigit() or int(raw) <= 0:
        raise ImproperlyConfigured(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def whole_number(name: str, default: int) -> int:
    """Like positive_int, with 0 allowed (0 turns HSTS off)."""
    raw = env.str(name, default=str(default))
    if not raw.isdigit():
        raise ImproperlyConfigured(f"{name} must be a whole number (0 or more), not {raw!r}")
    return int(raw)


_RATE = re.compile(r"[1-9][0-9]*/(second|minute|hour|day)")


def rate(name: str, default: str) -> str:
    """A DRF throttle rate, `N/second`, `N/minute`, `N/hour` or `N/day` (DRF itself reads only the first letter)."""
    raw = env.str(name, default=default).strip()
    if not _RATE.fullmatch(raw):
        raise ImproperlyConfigured(
            f"{name} must be a rate such as 60/minute (per second, minute, hour or day), not {raw!r}"
        )
    return raw


def secret_key(var_dir: Path) -> str:
    """SECRET_KEY from the environment; for the embedded demo, one generated once and kept under var/."""
    if env.str("SECRET_KEY", default=""):
        return env.str("SECRET_KEY")
    path = var_dir / "secret-key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()

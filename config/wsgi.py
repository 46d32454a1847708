"""WSGI entry point for gunicorn: `gunicorn config.wsgi`.

Each gunicorn worker imports this before it takes a request, so what requests would otherwise import on first
use is imported here: the plugins (every format, protocol and metric, the ONNX and timm checks a submission
runs) and the site's URL map. Loaded by the first request instead, they held that worker's threads for a second
or more, the first board page of a fresh worker took 1.2 s against 0.06 s."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _warm() -> None:
    from django.urls import get_resolver

    import leaderboard.submitting  # noqa: F401  (the submission check and what it imports)
    from plugins import registry

    registry.load_all()
    get_resolver().url_patterns  # noqa: B018  (imports every view module)


_warm()

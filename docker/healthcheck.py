"""Health checks of the containers in docker/compose.yaml: `python docker/healthcheck.py site|worker|scheduler`,
exit status 0 when healthy.

- site: GET /healthz on this container's gunicorn answers 200 (it reads the database), asked for by the first
  of ALLOWED_HOSTS (Django refuses other Host headers);
- worker: every Celery worker of this container answers a ping through the broker;
- scheduler: the periodic timetable is in the database (django-celery-beat writes it when beat starts).
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request

TIMEOUT = 10


def site() -> bool:
    host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip() or "localhost"
    request = urllib.request.Request("http://127.0.0.1:8000/healthz", headers={"Host": host})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return response.status == 200


def _django() -> None:
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def worker() -> bool:
    _django()
    from config.celery import app

    here = socket.gethostname()
    replies = app.control.ping(timeout=TIMEOUT)
    return any(name.endswith(f"@{here}") for reply in replies for name in reply)


def scheduler() -> bool:
    _django()
    from django.conf import settings
    from django_celery_beat.models import PeriodicTask

    return PeriodicTask.objects.filter(name__in=list(settings.CELERY_BEAT_SCHEDULE)).exists()


CHECKS = {"site": site, "worker": worker, "scheduler": scheduler}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CHECKS:
        sys.exit(f"usage: healthcheck.py {'|'.join(CHECKS)}")
    try:
        healthy = CHECKS[sys.argv[1]]()
    except Exception as error:  # any failure is "unhealthy", said in one line for `docker inspect`
        sys.exit(f"unhealthy: {type(error).__name__}: {error}")
    sys.exit(0 if healthy else "unhealthy")

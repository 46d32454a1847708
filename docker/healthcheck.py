"""Health checks of the containers in docker/compose.yaml: `python docker/healthcheck.py site|worker|scheduler`,
exit status 0 when healthy, else a line saying why (shown by `docker inspect`).

- site: GET /healthz on this container's gunicorn answers 200 (it reads the database); asked for as localhost,
  which the compose file adds to ALLOWED_HOSTS;
- worker: every Celery worker of this container answers a ping through the broker: the workers a
  `manage.py workers` set started (the children of the container's first process), or that process itself;
- scheduler: the container's first process is `celery beat`, and the timetable it keeps in the database is
  there and enabled.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
from pathlib import Path

TIMEOUT = 10
# the container's first process, and the site's port; other values only for tests/integration/test_health.py
FIRST = int(os.environ.get("HEALTHCHECK_PID", "1"))
PORT = int(os.environ.get("HEALTHCHECK_PORT", "8000"))


def site() -> str | None:
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}/healthz", headers={"Host": "localhost"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return None if response.status == 200 else f"/healthz answered {response.status}"


def _django() -> None:
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _command(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def _node_names() -> set[str]:
    """The Celery node names of the workers this container runs (`-n NAME@%h`), with %h as the host name."""
    children = Path(f"/proc/{FIRST}/task/{FIRST}/children").read_text().split()
    names = set()
    for pid in [FIRST, *map(int, children)]:
        command = _command(pid)
        if "worker" in command and "-n" in command:
            names.add(command[command.index("-n") + 1].replace("%h", socket.gethostname()))
    return names


def worker() -> str | None:
    _django()
    from config.celery import app

    expected = _node_names()
    if not expected:
        return "no Celery worker runs in this container"
    answered = {name for reply in app.control.ping(destination=sorted(expected), timeout=TIMEOUT) for name in reply}
    missing = expected - answered
    return f"no answer from {', '.join(sorted(missing))}" if missing else None


def scheduler() -> str | None:
    if "beat" not in _command(FIRST):
        return "celery beat is not this container's process"
    _django()
    from django.conf import settings
    from django_celery_beat.models import PeriodicTask

    names = list(settings.CELERY_BEAT_SCHEDULE)
    enabled = PeriodicTask.objects.filter(name__in=names, enabled=True).count()
    return None if enabled == len(names) else f"{len(names) - enabled} scheduled task(s) missing or disabled"


CHECKS = {"site": site, "worker": worker, "scheduler": scheduler}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CHECKS:
        sys.exit(f"usage: healthcheck.py {'|'.join(CHECKS)}")
    try:
        why = CHECKS[sys.argv[1]]()
    except Exception as error:  # any failure is "unhealthy", said in one line
        why = f"{type(error).__name__}: {error}"
    sys.exit(f"unhealthy: {why}" if why else 0)

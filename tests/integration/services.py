"""The CI machine's own PostgreSQL and Redis, stopped and started for real by fault tests, with the same commands
that start them before a session (the tool library's env entry); each waits until the service answers."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


def _cluster() -> str:
    return sorted(path.name for path in Path("/etc/postgresql").iterdir())[-1]


def _wait(answers, what: str, deadline_seconds: float = 60) -> None:
    deadline = time.monotonic() + deadline_seconds
    while not answers():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not answer within {deadline_seconds} s")
        time.sleep(0.1)


def redis_answers() -> bool:
    ping = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"], capture_output=True, text=True)
    return ping.stdout.strip() == "PONG"


def postgres_answers() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0


def stop_redis() -> None:
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], capture_output=True)
    _wait(lambda: not redis_answers(), "Redis's shutdown")


def start_redis() -> None:
    if not redis_answers():
        subprocess.run(REDIS_START, check=True, capture_output=True)
    _wait(redis_answers, "Redis")


def restart_postgres() -> None:
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", _cluster(), "main", "restart", "-m", "fast"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    _wait(postgres_answers, "PostgreSQL")

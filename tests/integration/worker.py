"""A real Celery worker process for integration tests, on the test database and a queue of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the test database pytest-django created, for the worker process to share."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, queue: str, scratch: Path, data_dir: Path):
        self.queue, self.log_path, self.media_dir = queue, scratch / "worker.log", scratch / "media"
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "ZOOBOARD_CPU_QUEUE": queue,
            "ZOOBOARD_DATA_DIR": str(data_dir),
            "ZOOBOARD_MEDIA_DIR": str(self.media_dir),
            "ZOOBOARD_VAR_DIR": str(scratch / "var"),
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "-c",
            "1",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "info",
            "-n",
            f"{queue}@%h",
        ]
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_until_ready(self, deadline_seconds: float = 60) -> None:
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if "ready." in self.log_path.read_text():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited early:\n{self.log_path.read_text()}")
            time.sleep(0.1)
        raise TimeoutError(f"the worker was not ready in {deadline_seconds} s:\n{self.log_path.read_text()}")

    def pool_children(self) -> list[int]:
        """The prefork pool's child processes (the ones that run tasks)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

"""Real server processes for integration tests: a Celery worker and gunicorn, sharing the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

from evaluator.workers import WorkerSpec
from evaluator.workers import command as worker_command

REPO = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the test database pytest-django created, for other processes to share."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def service_env(queue: str, scratch: Path, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "ZOOBOARD_CPU_QUEUE": queue,
        "ZOOBOARD_DATA_DIR": str(data_dir),
        "ZOOBOARD_MEDIA_DIR": str(scratch / "media"),
        "ZOOBOARD_VAR_DIR": str(scratch / "var"),
    }


class ServiceProcess:
    """A child process with its output in a log file, stopped gracefully at the end."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], scratch: Path):
        self.name, self.log_path = name, scratch / f"{name}.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_for(self, is_ready, deadline_seconds: float = 60) -> None:
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if is_ready():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_path.read_text()}")
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} was not ready in {deadline_seconds} s:\n{self.log_path.read_text()}")

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


class Worker(ServiceProcess):
    def __init__(
        self,
        queue: str,
        scratch: Path,
        data_dir: Path,
        extra_env: dict[str, str] | None = None,
        extra_arguments: tuple[str, ...] = (),
        log_name: str = "worker",
        prefix: tuple[str, ...] = (),
    ):
        """prefix: what runs the worker's command (another host's network namespace, say); it must exec it, so
        that the process started is the worker's main process."""
        self.queue, self.media_dir = queue, scratch / "media"
        spec = WorkerSpec(name=queue, queue=queue, concurrency=1)
        command = worker_command(spec, ["--without-mingle", "--without-gossip", "-l", "info", *extra_arguments])
        command = [*prefix, *command]
        env = {**service_env(queue, scratch, data_dir), **(extra_env or {})}
        super().__init__(log_name, command, env, scratch)
        self.wait_for(lambda: "ready." in self.log_path.read_text())

    def pool_children(self) -> list[int]:
        """The prefork pool's child processes (the ones that run tasks)."""
        pid = self.process.pid
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def kill(self, deadline_seconds: float = 30) -> None:
        """SIGKILL to the main process, as a lost host or the out-of-memory killer would; waits until its pool
        processes are gone too (they die with it: evaluator/worker_life.py)."""
        children = self.pool_children()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + deadline_seconds
        while any(_alive(child) for child in children):
            if time.monotonic() > deadline:
                raise TimeoutError(f"pool processes {children} outlived their killed worker")
            time.sleep(0.05)
        self.log.close()


def _alive(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan lingers as one until init reaps it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


class Gunicorn(ServiceProcess):
    def __init__(self, queue: str, scratch: Path, data_dir: Path, port: int, extra_env: dict[str, str] | None = None):
        env = {**service_env(queue, scratch, data_dir), **(extra_env or {})}
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=REPO,
            env=env,
            check=True,
            timeout=120,
        )
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"]
        super().__init__("gunicorn", command, env, scratch)
        self.wait_for(self._answers)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/accounts/login/", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

"""Settings come from the environment and stop start-up, by name, when malformed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


def manage_check(**env):
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DEBUG", "ture", "DEBUG must be true or false"),
        ("ZOOBOARD_MAX_UPLOAD_MB", "lots", "ZOOBOARD_MAX_UPLOAD_MB must be a positive whole number, not 'lots'"),
        ("ZOOBOARD_EVALUATION_QUEUE", "tpu", "ZOOBOARD_EVALUATION_QUEUE must be 'cpu' or 'gpu', not 'tpu'"),
        ("ZOOBOARD_PRECISION", "fp8", "ZOOBOARD_PRECISION must be auto, float32 or bfloat16, not 'fp8'"),
    ],
)
def test_a_malformed_value_stops_start_up_naming_the_variable(name, value, expected):
    done = manage_check(**{name: value})
    assert done.returncode != 0
    assert expected in done.stderr


def test_the_defaults_need_no_configuration(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env["ZOOBOARD_VAR_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "manage.py", "diffsettings", "--all"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "django.db.backends.sqlite3" in done.stdout and "filesystem://localhost/" in done.stdout
    assert (tmp_path / "secret-key").stat().st_mode & 0o077 == 0  # generated once, readable by its owner only

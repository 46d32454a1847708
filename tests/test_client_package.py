"""`pip install ./client` installs a `zooboard` command that runs without Django (offline here: no build
isolation and no dependencies fetched, as tests/plugin_package is built)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.conftest import REPO


def test_pip_installs_the_zooboard_command_free_of_django(tmp_path):
    source = tmp_path / "client"
    shutil.copytree(REPO / "client", source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    target = tmp_path / "installed"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target"]
    subprocess.run([*pip, str(target), str(source)], check=True, capture_output=True, timeout=300)
    # Django made unimportable: the command must not need it
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['django'] = None\n")
    env = {**os.environ, "PYTHONPATH": f"{blocker}{os.pathsep}{target}"}
    helped = subprocess.run(
        [str(target / "bin" / "zooboard"), "--help"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0, helped.stderr
    assert "{submit,status,results,cancel,leaderboard,quota}" in helped.stdout
    unreachable = subprocess.run(
        [str(target / "bin" / "zooboard"), "--url", "http://127.0.0.1:9", "leaderboard", "cifar10"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unreachable.returncode == 1 and "zooboard: cannot reach http://127.0.0.1:9/api/" in unreachable.stderr

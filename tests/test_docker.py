"""docker/: what can be checked without a Docker engine (this machine kind has none). The compose file is parsed
and resolved by docker-compose itself; each service's command, environment and health check is checked against
the settings module, the management commands, the Dockerfiles and the Makefile; and the site's environment from
the compose file passes `manage.py check --deploy --fail-level WARNING`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import REPO, run_python

DOCKER = REPO / "docker"
ENVIRONMENT = {"SECRET_KEY": "compose-test-" + "k" * 50, "ALLOWED_HOSTS": "zooboard.example.org"}
WORKERS = ("worker", "gpu-worker")


def compose_config(profiles=("gpu", "tools"), **env: str) -> dict:
    """The compose file as docker-compose resolves it (variables, anchors, profiles)."""
    if shutil.which("docker-compose") is None:
        if os.environ.get("ZOOBOARD_REQUIRE_SERVICES") == "1":
            pytest.fail("ZOOBOARD_REQUIRE_SERVICES=1 but docker-compose is not installed (Debian's docker-compose)")
        pytest.skip("docker-compose is not installed (Debian's package docker-compose; it needs no engine)")
    command = ["docker-compose", "-f", str(DOCKER / "compose.yaml")]
    for profile in profiles:
        command += ["--profile", profile]
    done = subprocess.run(
        [*command, "config"],
        cwd=REPO,
        env={**os.environ, **ENVIRONMENT, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


@pytest.fixture(scope="module")
def services() -> dict:
    return compose_config()["services"]


def settings_source() -> str:
    return "\n".join(path.read_text() for path in (REPO / "config").glob("*.py"))


def test_docker_compose_parses_it_and_refuses_it_without_a_secret_key():
    assert set(compose_config()["services"]) >= {"db", "redis", "web", "worker", "gpu-worker", "scheduler"}
    if shutil.which("docker-compose"):
        env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
        done = subprocess.run(
            ["docker-compose", "-f", str(DOCKER / "compose.yaml"), "config"],
            cwd=REPO,
            env={**env, "ALLOWED_HOSTS": "x"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0 and "set SECRET_KEY" in done.stderr


def test_every_service_has_a_health_check_the_images_can_run(services):
    source = (DOCKER / "healthcheck.py").read_text()
    modes = {mode for mode in ("site", "worker", "scheduler") if f"def {mode}()" in source}
    assert modes == {"site", "worker", "scheduler"} and "/healthz" in source
    for name, service in services.items():
        if name == "import-testset":
            continue  # a one-off command, not a service
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD", name
        if test[1] == "python":
            assert test[2] == "docker/healthcheck.py" and test[3] in modes, name


def test_the_hidden_test_sets_are_mounted_read_only_into_the_workers_only(services):
    for name, service in services.items():
        data = [
            volume for volume in service.get("volumes", []) if volume.endswith(":/srv/data") or "/srv/data:" in volume
        ]
        if name in WORKERS:
            assert data and all(volume.endswith(":ro") for volume in data), name
            assert service["environment"]["ZOOBOARD_DATA_DIR"] == "/srv/data"
            assert service["environment"]["ZOOBOARD_CACHE_DIR"] == "/srv/cache"  # pixels go elsewhere
        elif name == "import-testset":
            assert data and not data[0].endswith(":ro")  # the one service that writes them
        else:
            assert not data, f"{name} mounts the hidden test sets"


def test_uploads_and_predictions_are_on_named_volumes_the_site_and_workers_share(services):
    volumes = {name: {v.split(":")[1]: v.split(":")[0] for v in s.get("volumes", [])} for name, s in services.items()}
    assert volumes["web"]["/srv/uploads"] == volumes["worker"]["/srv/uploads"] == "uploads"
    assert volumes["worker"]["/srv/predictions"] == volumes["gpu-worker"]["/srv/predictions"] == "predictions"
    for name in ("web", *WORKERS):
        env = services[name]["environment"]
        assert (env["ZOOBOARD_MEDIA_DIR"], env["ZOOBOARD_PREDICTIONS_DIR"]) == ("/srv/uploads", "/srv/predictions")


def test_every_variable_the_compose_file_sets_is_one_the_settings_read(services):
    source = settings_source()
    for name, service in services.items():
        if name in ("db", "redis", "board-cache"):
            continue
        for variable in service["environment"]:
            assert f'"{variable}"' in source, f"{name} sets {variable}, which config/ never reads"


def test_every_command_is_one_the_code_has(services):
    commands = set()
    for folder in ("leaderboard", "evaluator"):
        commands |= {path.stem for path in (REPO / folder / "management" / "commands").glob("[a-z]*.py")}
    for name, service in services.items():
        words = [*service.get("entrypoint", []), *service.get("command", [])]
        if not words:
            continue
        line = " ".join(words)
        for command in re.findall(r"manage\.py (\w+)", line):
            assert command in commands | {"migrate", "collectstatic"}, f"{name}: manage.py {command}"
        if "celery" in words:
            assert words[words.index("-A") + 1] == "config" and (REPO / "config" / "celery.py").exists()
        if "gunicorn" in line:
            assert "config.wsgi" in line and (REPO / "config" / "wsgi.py").exists()
    assert "migrate --noinput" in " ".join(services["web"]["command"])  # migrations on start
    assert "beat" in services["scheduler"]["command"]
    assert services["scheduler"]["image"] == services["worker"]["image"]  # beat runs the worker's image


def test_the_images_are_built_from_files_that_exist(services):
    dockerfile = (DOCKER / "Dockerfile").read_text()
    stages = set(re.findall(r"^FROM \S+ AS (\w+)", dockerfile, re.M))
    for name in ("web", "worker"):
        assert services[name]["build"]["target"] in stages
    gpu = services["gpu-worker"]["build"]["dockerfile"]
    gpu_text = (REPO / gpu).read_text()
    assert "requirements-gpu.txt" in gpu_text and "nvidia/cuda" in gpu_text
    for text in (dockerfile, gpu_text):
        for requirements in re.findall(r"requirements[\w-]*\.txt", text):
            assert (REPO / requirements).exists(), requirements
    # the CPU images' requirements are the Makefile's, without the test tools
    makefile = (REPO / "Makefile").read_text()
    assert "requirements.txt" in makefile and "requirements.txt" in dockerfile
    assert "onnxruntime-gpu" in (REPO / "requirements-gpu.txt").read_text()
    assert "onnxruntime-gpu" not in (REPO / "requirements.txt").read_text()


def test_the_compose_files_site_environment_passes_the_deployment_checks(services, tmp_path):
    env = {key: str(value) for key, value in services["web"]["environment"].items()}
    env["ZOOBOARD_VAR_DIR"] = str(tmp_path)  # the image's ENV; /var/lib/zooboard is not this machine's
    done = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


@pytest.mark.django_db
def test_the_health_check_page_answers_over_plain_http_behind_the_https_redirect(settings):
    from django.test import Client

    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # a handler made now: its SecurityMiddleware reads the redirect setting
    assert client.get("/").status_code == 301  # everything else goes to https
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok\n")
    assert "no-cache" in response["Cache-Control"]

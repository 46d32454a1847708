"""The cast (alice submits, bob is another researcher, charlie is an outsider, staff moderates), the real data
and the real models, shared by every test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from evaluator.conversion.bundled_models import MODELS, convert_all, file_name
from leaderboard.models import ApiToken
from plugins import registry
from plugins.testset import testset_root

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "evaluator" / "bundled"  # laid out as the shared data is: the import source
BUNDLED_CIFAR10 = BUNDLED / "cifar10-test"
SHARED_DATA = REPO.parent / "shared" / "data"


def run_python(*args, **env: str) -> subprocess.CompletedProcess:
    """`python ARGS` in the repository, as a user would run it, with extra environment variables."""
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def print_setting(expression: str, **env: str):
    """A settings expression (JSON-able) as a fresh process with this environment computes it."""
    import json

    code = f"import django, json; django.setup(); from django.conf import settings; print(json.dumps({expression}))"
    done = run_python("-c", code, DJANGO_SETTINGS_MODULE="config.settings", **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def require_shared(relative: str) -> Path:
    """A folder of ../shared/data: skipped with the reason when absent, a failure when ZOOBOARD_REQUIRE_SHARED=1."""
    path = SHARED_DATA / relative
    if not path.exists():
        reason = f"{path} is absent (the team's shared data folder beside the checkout)"
        if os.environ.get("ZOOBOARD_REQUIRE_SHARED") == "1":
            pytest.fail(f"ZOOBOARD_REQUIRE_SHARED=1 but {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A PostgreSQL test database of this run's own, so a concurrent run or a stray worker cannot block it."""
    database = django_settings.DATABASES["default"]
    if "postgresql" in database["ENGINE"]:
        database.setdefault("TEST", {})["NAME"] = f"test_zooboard_{os.getpid()}"


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """The bundled real models, converted to ONNX by our own script once per session."""
    out = tmp_path_factory.mktemp("models")
    convert_all(out)
    return out


@pytest.fixture(scope="session")
def model_path(model_dir):
    """model_path("resnet20") -> the converted ONNX file."""

    def path(short_name: str) -> Path:
        names = {file_name(name).removesuffix(".onnx"): name for name in MODELS}
        return model_dir / file_name(names[short_name])

    return path


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """ZOOBOARD_DATA_DIR for the session, with the bundled CIFAR-10 test set imported (no database needed)."""
    root = tmp_path_factory.mktemp("data")
    registry.get("testset_reader", "cifar10").import_testset(BUNDLED, testset_root(root, "cifar10", 1), 1)
    return root


@pytest.fixture(scope="session")
def cifar10_root(data_dir) -> Path:
    return testset_root(data_dir, "cifar10")


@pytest.fixture(scope="session")
def cifar10_images_and_labels():
    """The raw CIFAR-10 test images (uint8 [N, 32, 32, 3]) and labels, decoded by the independent reader."""
    from tests import independent

    return independent.cifar10_images_and_labels()


@pytest.fixture(scope="session")
def model_outputs(model_path, cifar10_images_and_labels):
    """model_outputs("resnet20") -> (the model's own outputs on every test image, their kind), computed once by
    the independent evaluation: the reference for every metric, never the engine's stored predictions."""
    from tests import independent

    cache = {}

    def get(name: str) -> tuple[np.ndarray, str]:
        if name not in cache:
            mean, std, value_range, kind = independent.CIFAR10_MODELS[name]
            images, _ = cifar10_images_and_labels
            cache[name] = (independent.model_scores(model_path(name), images, mean, std, value_range), kind)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def real_predictions(model_path, cifar10_root):
    """real_predictions("resnet20") -> the engine's stored predictions of a bundled model on CIFAR-10, once."""
    from evaluator.engine.evaluation import predict
    from plugins.contracts import ModelSource
    from plugins.recipe import Recipe
    from plugins.submission_check import check_model

    cache = {}

    def get(name: str):
        if name not in cache:
            source = ModelSource(model_path(name))
            _, recipe = check_model("onnx", source, 10, {}, Recipe(input_size=32, crop_pct=1.0))
            cache[name] = predict(source, "onnx", recipe, cifar10_root).predictions
        return cache[name]

    return get


@pytest.fixture(autouse=True)
def isolated_dirs(settings, data_dir, tmp_path):
    """Every test writes uploads to its own folder and reads hidden test sets from the session's.

    In-process pages use plain static storage: the hashed manifest needs collectstatic, which the gunicorn
    integration tests run for real.
    """
    settings.ZOOBOARD_DATA_DIR = data_dir
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def cifar10(db, data_dir):
    """The CIFAR-10 test set listed on the site (its files are already in the session's data dir)."""
    from leaderboard.importing import import_testset

    testset, _ = import_testset("cifar10", BUNDLED)
    return testset


def _user(django_user_model, username: str, staff: bool = False):
    return django_user_model.objects.create_user(username, password="password", is_staff=staff)


@pytest.fixture
def alice(django_user_model):
    return _user(django_user_model, "alice")


@pytest.fixture
def bob(django_user_model):
    return _user(django_user_model, "bob")


@pytest.fixture
def charlie(django_user_model):
    return _user(django_user_model, "charlie")


@pytest.fixture
def staff(django_user_model):
    user = _user(django_user_model, "staff", staff=True)
    user.is_superuser = True  # moderates in the admin
    user.save()
    return user


@pytest.fixture
def api_as():
    """api_as(user) -> an API client authenticated with that user's token, as the CLI would be."""

    def client(user) -> APIClient:
        api = APIClient()
        _, key = ApiToken.objects.create(user=user, name="tests")  # knox's manager: the row and its only key
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return api

    return client


@pytest.fixture(autouse=True)
def sent_tasks(request, monkeypatch):
    """Unit tests record what would be queued (name, kwargs); only integration tests talk to the broker."""
    if request.node.get_closest_marker("integration"):
        return None
    sent = []
    monkeypatch.setattr("leaderboard.queue.app.send_task", lambda name, **kwargs: sent.append((name, kwargs)))
    return sent


@pytest.fixture(scope="session")
def third_party_plugin(tmp_path_factory) -> Path:
    """tests/plugin_package installed as an outside package would be; returns the folder to put on the path."""
    target = tmp_path_factory.mktemp("site-packages")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(REPO / "tests" / "plugin_package"),
        ],
        check=True,
        timeout=300,
    )
    return target


@pytest.fixture(scope="session")
def onnx_test_models(tmp_path_factory):
    from tests import onnx_models

    return onnx_models.write_all(tmp_path_factory.mktemp("onnx-test-models"))


def pytest_report_header(config):
    return [f"database: {django_settings.DATABASES['default']['ENGINE']}, broker: {django_settings.CELERY_BROKER_URL}"]


@pytest.fixture(autouse=True)
def generous_quotas(settings):
    """Tests that are not about fair use submit as often as they need; tests/test_quotas.py overrides this
    fixture to test the real limits. (The duplicate check stays on everywhere.)"""
    settings.ZOOBOARD_DAILY_QUOTA = settings.ZOOBOARD_MAX_IN_FLIGHT = 1000


@pytest.fixture(autouse=True)
def generous_api_rates(settings):
    """Throttles are tested in tests/test_throttles.py; elsewhere the session-wide cache must not carry counts
    from one test to the next (every test client comes from 127.0.0.1)."""
    from django.core.cache import cache, caches

    caches["boards"].clear()  # each test's pages made afresh (leaderboard/board_cache.py)
    rates = {"anon": "100000/minute", "user": "100000/minute", "submit": "100000/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    cache.clear()


@pytest.fixture
def ranked(db):
    """ranked(testset, owner, name, top1, **fields) -> a done submission whose original-label result has this top-1
    (interval top1 +- 0.01, over 10,000 images), stored as a worker stores results: Result.objects.store, DONE."""
    from leaderboard.models import Result, Status, Submission

    def make(testset, owner, name: str, top1: float, **fields):
        submission = Submission.objects.create(owner=owner, testset=testset, name=name, preprocessing={}, **fields)
        submission.move_to(Status.RUNNING)
        submission.move_to(Status.SCORING)
        result = {
            **{"version": 1, "protocol": "original", "headline": "top1", "metrics": {"top1": top1, "top5": 0.99}},
            **{"intervals": {"top1": [top1 - 0.01, top1 + 0.01]}, "counts": {"scored": 10_000}, "summaries": {}},
            **{"curves": {}, "correct": None, "per_example": None, "slices": {}},
        }
        Result.objects.store(submission, {"original": result})
        submission.move_to(Status.DONE)
        return submission

    return make

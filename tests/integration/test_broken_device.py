"""A model that breaks the GPU context: its submission fails as an internal error, the pool process that ran it
is replaced (a broken CUDA context would fail every later task in it), and the next submission is evaluated."""

from __future__ import annotations

import importlib
import uuid

import pytest

from leaderboard.models import Status
from plugins import registry
from tests.helpers import post
from tests.hostile_corpus import onnx_file, pooled_linear
from tests.integration.conftest import require_services
from tests.integration.processes import Worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
FORMAT_MODULE = "tests.integration.device_failure_format"


@pytest.fixture(scope="module")
def worker(django_db_setup, data_dir, tmp_path_factory):
    """This module's own worker, which imports the broken-device format."""
    require_services()
    scratch = tmp_path_factory.mktemp("worker")
    process = Worker(f"test-{uuid.uuid4().hex[:10]}", scratch, data_dir, extra_arguments=("--include", FORMAT_MODULE))
    yield process
    process.stop()


@pytest.fixture
def format_known_here(monkeypatch):
    """The site accepts the format too, without leaving it registered for other tests."""
    monkeypatch.setattr(registry, "_entries", {kind: dict(entries) for kind, entries in registry._entries.items()})
    module = importlib.import_module(FORMAT_MODULE)
    registry._entries["model_format"].setdefault("device-failure", module.DeviceFailure())


def test_a_broken_device_fails_the_submission_and_a_fresh_process_takes_the_next(
    format_known_here, queue_settings, cifar10, alice, api_as, tmp_path, wait_until_finished, worker
):
    api = api_as(alice)
    before = worker.pool_children()
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    response = post(api, {"model_file": model, "model_format": "device-failure", "name": "breaks the GPU"})
    assert response.status_code == 201, response.json()
    broken = wait_until_finished(response.json()["id"])
    assert broken.status == Status.FAILED
    assert broken.error_message.startswith("internal error, the operators were told (id ")

    healthy = post(api, onnx_file(pooled_linear())(tmp_path, {}))
    assert wait_until_finished(healthy.json()["id"]).status == Status.DONE
    assert worker.is_alive()
    after = worker.pool_children()
    assert len(after) == 1 and after != before  # the pool process that met the broken device is gone
    assert "left this process's GPU context broken; the process exits" in worker.log_path.read_text()

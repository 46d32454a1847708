"""`manage.py workers`: a worker pinned to GPU 0 on the gpu queue and an unpinned one on the cpu queue, as real
processes. This machine has no GPU, so the pinned worker runs the model on the CPU: what is proven here is the
routing and the pinning, which are the same with a GPU."""

from __future__ import annotations

import os
import signal
import sys
import uuid
from pathlib import Path

import pytest

from leaderboard.models import Status
from tests.integration.conftest import require_services
from tests.integration.processes import ServiceProcess, service_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_set(django_db_setup, data_dir, tmp_path, settings):
    require_services()
    tag = uuid.uuid4().hex[:10]
    cpu_queue, gpu_queue = f"test-{tag}-cpu", f"test-{tag}-gpu"
    env = {**service_env(cpu_queue, tmp_path, data_dir), "ZOOBOARD_GPU_QUEUE": gpu_queue}
    command = [sys.executable, "manage.py", "workers", "--gpus", "0", "--cpu-concurrency", "1"]
    command += ["--", "--without-mingle", "--without-gossip", "-l", "info"]
    process = ServiceProcess("workers", command, env, tmp_path)
    process.wait_for(lambda: process.log_path.read_text().count("ready.") == 2)
    settings.ZOOBOARD_CPU_QUEUE, settings.ZOOBOARD_GPU_QUEUE = cpu_queue, gpu_queue
    settings.MEDIA_ROOT = tmp_path / "media"
    yield process
    if process.is_alive():
        process.stop()


def submit(api, path: Path) -> int:
    with open(path, "rb") as handle:
        response = api.post("/api/submissions/", {"testset": "cifar10", "model_file": handle})
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_each_queue_reaches_its_own_worker_and_the_set_stops_together(
    worker_set, settings, cifar10, alice, api_as, model_path, wait_until_finished
):
    log = worker_set.log_path.read_text()
    assert f"starting gpu0: queue {settings.ZOOBOARD_GPU_QUEUE}, 1 process(es), CUDA_VISIBLE_DEVICES='0'" in log
    assert f"starting cpu: queue {settings.ZOOBOARD_CPU_QUEUE}, 1 process(es), CUDA_VISIBLE_DEVICES=''" in log

    settings.ZOOBOARD_EVALUATION_QUEUE = settings.ZOOBOARD_GPU_QUEUE
    on_gpu_queue = wait_until_finished(submit(api_as(alice), model_path("resnet8")))
    assert on_gpu_queue.status == Status.DONE, on_gpu_queue.error_message
    assert on_gpu_queue.efficiency["machine"]["visible_gpus"] == "0"

    settings.ZOOBOARD_EVALUATION_QUEUE = settings.ZOOBOARD_CPU_QUEUE
    on_cpu_queue = wait_until_finished(submit(api_as(alice), model_path("resnet20")))
    assert on_cpu_queue.status == Status.DONE, on_cpu_queue.error_message
    assert on_cpu_queue.efficiency["machine"]["visible_gpus"] == ""

    launcher = worker_set.process.pid
    children = [int(pid) for pid in Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()]
    assert len(children) == 2
    worker_set.process.send_signal(signal.SIGTERM)
    assert worker_set.process.wait(timeout=60) == 0
    for pid in children:
        assert not Path(f"/proc/{pid}").exists(), f"worker {pid} outlived the set"


def test_when_one_worker_dies_the_set_stops_so_its_manager_restarts_it(worker_set):
    launcher = worker_set.process.pid
    children = [int(pid) for pid in Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()]
    os.kill(children[0], signal.SIGKILL)
    assert worker_set.process.wait(timeout=60) == 128 + signal.SIGKILL
    assert not Path(f"/proc/{children[1]}").exists(), "the other worker outlived the set"

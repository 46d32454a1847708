"""The evaluator's Celery workers on one machine: one per GPU, pinned to it with CUDA_VISIBLE_DEVICES and taking
one task at a time from the gpu queue, and one for the cpu queue (CPU evaluations and re-scoring).

They run as a set: SIGTERM or SIGINT stops them all, and if one stops the others are stopped too, so that the
process manager above (systemd, Docker) restarts the whole set rather than leaving a GPU idle.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkerSpec:
    name: str
    queue: str
    concurrency: int
    env: dict[str, str] = field(default_factory=dict)


def detect_gpus() -> list[str]:
    """Indices of the GPUs torch can see; none on a CPU-only machine."""
    import torch

    return [str(index) for index in range(torch.cuda.device_count())]


def plan(
    gpus: list[str], cpu_concurrency: int, gpu_queue: str, cpu_queue: str, visible: str | None = None
) -> list[WorkerSpec]:
    """gpus: indices as torch sees them. visible: this process's own CUDA_VISIBLE_DEVICES, if set, which those
    indices count within (index 0 of "2,3" is GPU 2): each worker is pinned to the device itself."""
    devices = [device.strip() for device in visible.split(",")] if visible else None
    if devices is not None and any(int(index) >= len(devices) for index in gpus):
        raise ValueError(f"GPU indices {', '.join(gpus)} go beyond CUDA_VISIBLE_DEVICES={visible}")
    pin = (lambda index: devices[int(index)]) if devices is not None else (lambda index: index)
    specs = [WorkerSpec(f"gpu{index}", gpu_queue, 1, {"CUDA_VISIBLE_DEVICES": pin(index)}) for index in gpus]
    if cpu_concurrency:
        # an empty CUDA_VISIBLE_DEVICES keeps the CPU worker off the GPUs the others own
        specs.append(WorkerSpec("cpu", cpu_queue, cpu_concurrency, {"CUDA_VISIBLE_DEVICES": ""}))
    return specs


def command(spec: WorkerSpec, extra_arguments: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        spec.queue,
        "-c",
        str(spec.concurrency),
        "-n",
        f"{spec.name}@%h",
        *extra_arguments,
    ]


def run(specs: list[WorkerSpec], extra_arguments: list[str]) -> int:
    """Starts the set and waits; returns the exit status of the first worker to stop."""
    children = [subprocess.Popen(command(spec, extra_arguments), env={**os.environ, **spec.env}) for spec in specs]

    def stop_all(signum=signal.SIGTERM, frame=None) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)  # Celery's warm shutdown: running tasks finish first

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    pid, status = os.wait()
    stop_all()
    for child in children:
        child.wait()
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code  # killed by a signal: the shell's convention

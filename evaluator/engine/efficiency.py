"""What a model costs to run, measured while it is evaluated: latency at batch 1, peak memory, and the machine and
software versions that ran it."""

from __future__ import annotations

import os
import platform
import threading
import time
from importlib import metadata

import numpy as np

from evaluator.engine.batches import normalise
from plugins.contracts import Predictor
from plugins.recipe import Recipe

LATENCY_WARMUP_RUNS = 5
LATENCY_RUNS = 50
SOFTWARE = ("torch", "onnxruntime", "onnxruntime-gpu", "timm", "numpy")


def batch1_latency(
    predictor: Predictor, pixels: np.ndarray, recipe: Recipe, num_classes: int, runs: int = LATENCY_RUNS
) -> dict:
    """p50 and p95 milliseconds for one image, host pixels in and scores out, after a few warm-up runs.

    It goes the way the evaluation went: through predict_into where the predictor has it (normalised on its
    device), else normalised here and through predict()."""
    image = np.asarray(pixels[:1])
    if hasattr(predictor, "predict_into"):
        scores = np.empty((1, num_classes), np.float32)

        def once() -> None:
            predictor.predict_into(image, scores, recipe, 1, lambda done: None)
    else:

        def once() -> None:
            predictor.predict(normalise(image, recipe))

    for _ in range(LATENCY_WARMUP_RUNS):
        once()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        once()
        seconds.append(time.perf_counter() - started)
    p50, p95 = np.percentile(seconds, [50, 95]) * 1000
    return {"p50_ms": round(float(p50), 3), "p95_ms": round(float(p95), 3), "runs": runs}


class ResidentMemoryPeak:
    """How far the process's anonymous resident memory (heap, model weights, activations: not the memory-mapped
    test set, which is file-backed) rose above where it stood when the block began, sampled every few ms.

    Written here because the kernel's own high-water mark (ru_maxrss) covers the worker process's whole life,
    earlier tasks included, and counts the mapped test set."""

    INTERVAL_SECONDS = 0.01

    def __init__(self):
        self.baseline = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ResidentMemoryPeak:
        self.baseline = self.peak = _anonymous_resident_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _anonymous_resident_bytes())

    def record(self) -> dict | None:
        return {"bytes": self.peak - self.baseline, "kind": "host"} if self.baseline else None

    def _sample(self) -> None:
        while not self._stop.wait(self.INTERVAL_SECONDS):
            self.peak = max(self.peak, _anonymous_resident_bytes())


def _anonymous_resident_bytes() -> int:
    """Resident minus resident-shared pages (file-backed and shared memory), from /proc/self/statm."""
    try:
        with open("/proc/self/statm") as statm:
            resident, shared = (int(field) for field in statm.read().split()[1:3])
    except OSError:  # not Linux: no figure rather than a wrong one
        return 0
    return (resident - shared) * os.sysconf("SC_PAGE_SIZE")


def machine(provider: str) -> dict:
    """The hardware and software an evaluation ran on."""
    on_gpu = any(name in provider.lower() for name in ("cuda", "tensorrt"))
    versions = {}
    for package in SOFTWARE:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    cpu = cpu_name()
    return {
        "device": _gpu_name() if on_gpu else cpu,
        "device_kind": "gpu" if on_gpu else "cpu",
        "cpu": cpu,
        "cpu_cores": os.cpu_count(),
        "visible_gpus": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "python": platform.python_version(),
        "software": versions,
    }


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpu_name() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "a GPU torch cannot see"

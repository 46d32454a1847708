"""An independent, plainly written evaluation for checking the engine: no cache, no batching helpers,
float64 normalisation, per-example Python loops for the metrics."""

from __future__ import annotations

import csv
import io
import tarfile
from pathlib import Path

import numpy as np
import onnxruntime
from PIL import Image

from tests.conftest import BUNDLED_CIFAR10


def cifar10_images_and_labels() -> tuple[np.ndarray, list[int]]:
    with open(BUNDLED_CIFAR10 / "cifar10_test_index.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    images = []
    with tarfile.open(BUNDLED_CIFAR10 / "cifar10_test_jpeg_q75.tar") as archive:
        for row in rows:
            data = archive.extractfile(row["jpeg_path_in_tar"]).read()
            images.append(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    return np.stack(images), [int(row["label"]) for row in rows]


def model_scores(model: Path, images: np.ndarray, mean, std, value_range: float) -> np.ndarray:
    """Raw model outputs [N, C]; images uint8 [N, H, W, 3]."""
    x = images.astype(np.float64) / 255.0 * value_range
    x = (x - np.array(mean)) / np.array(std)
    x = x.transpose(0, 3, 1, 2).astype(np.float32)
    session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x[i : i + 1000]})[0] for i in range(0, len(x), 1000)])


def top_k_accuracy_loop(scores: np.ndarray, labels: list[int], k: int) -> float:
    hits = 0
    for row, label in zip(scores.tolist(), labels, strict=True):
        best = sorted(range(len(row)), key=lambda c: row[c], reverse=True)[:k]
        hits += label in best
    return hits / len(labels)

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

from plugins.recipe import IMAGENET_MEAN, IMAGENET_STD
from tests.conftest import BUNDLED_CIFAR10

# How each bundled CIFAR-10 model takes its pixels and what it outputs, as its source publishes them (not read
# from the converted file's metadata): mean, std, value range, output kind
CIFAR10_MODELS = {
    "resnet20": (IMAGENET_MEAN, IMAGENET_STD, 1.0, "logits"),
    "resnet56": (IMAGENET_MEAN, IMAGENET_STD, 1.0, "logits"),
    "resnet8": ((0, 0, 0), (1, 1, 1), 255.0, "probabilities"),
}


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


def log_probabilities(outputs: np.ndarray, kind: str) -> np.ndarray:
    """float64 log-probabilities from a model's own outputs, one row at a time: log-softmax of logits, or the
    log of the probabilities a model outputs itself."""
    rows = []
    for row in outputs.astype(np.float64):
        if kind == "logits":
            shifted = row - row.max()
            rows.append(shifted - np.log(np.exp(shifted).sum()))
        else:
            rows.append(np.log(row))
    return np.stack(rows)

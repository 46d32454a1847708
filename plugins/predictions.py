"""Per-example predictions as stored on the worker: enough to re-score under any label set, no model run."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plugins.errors import SubmissionError

STORED_TOP_K = 5  # top-5 is the widest top-k any protocol reads; all probabilities are kept besides


@dataclass(frozen=True)
class Predictions:
    """top_classes int16 [N, k] best first, top_probs float16 [N, k], probs float16 [N, C] (all classes)."""

    top_classes: np.ndarray
    top_probs: np.ndarray
    probs: np.ndarray

    @classmethod
    def from_probabilities(cls, probs: np.ndarray) -> Predictions:
        k = min(STORED_TOP_K, probs.shape[1])
        # argpartition then a sort of only k columns: the full argsort of [N, 1000] would dominate
        top = np.argpartition(-probs, k - 1, axis=1)[:, :k]
        top_probs = np.take_along_axis(probs, top, axis=1)
        order = np.argsort(-top_probs, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        return cls(
            top.astype(np.int16 if probs.shape[1] <= np.iinfo(np.int16).max else np.int32),
            np.take_along_axis(top_probs, order, axis=1).astype(np.float16),
            probs.astype(np.float16),
        )

    def __len__(self) -> int:
        return len(self.top_classes)

    def subset(self, mask: np.ndarray) -> Predictions:
        return Predictions(self.top_classes[mask], self.top_probs[mask], self.probs[mask])

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a name of its own: two writers (an attempt and the one that took over) never share the partial file
        partial = path.with_name(f"{path.stem}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}.npz")
        np.savez(partial, top_classes=self.top_classes, top_probs=self.top_probs, probs=self.probs)
        partial.replace(path)  # readers never see half a file

    @classmethod
    def load(cls, path: Path) -> Predictions:
        with np.load(path) as stored:
            return cls(stored["top_classes"], stored["top_probs"], stored["probs"])


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


NOT_FINITE = "the model's output contains NaN or infinite values"


def check_scores_shape(scores_shape: tuple, batch_size: int, num_classes: int) -> None:
    """A model's scores for a batch must be [batch, classes]; anything else is the submitter's to fix."""
    if tuple(scores_shape) != (batch_size, num_classes):
        raise SubmissionError(
            f"the model returned an output of shape {list(scores_shape)} for a batch of "
            f"{batch_size}; expected [{batch_size}, {num_classes}]"
        )

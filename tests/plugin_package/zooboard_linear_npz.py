"""A linear classifier over raw normalised pixels, stored as an .npz with `weight` [3*S*S, C] and `bias` [C].

The smallest complete model-format plugin: it registers itself when Zooboard imports it through the
`zooboard.plugins` entry point, checks a submission cheaply, and loads a predictor on the worker.
"""

from __future__ import annotations

import math

import numpy as np

from plugins.contracts import ModelInfo, ModelSource
from plugins.errors import SubmissionError
from plugins.registry import register


def _read(source: ModelSource) -> tuple[np.ndarray, np.ndarray]:
    if source.file is None:
        raise SubmissionError("a linear-npz model needs its .npz file")
    try:
        with np.load(source.file, allow_pickle=False) as stored:  # never unpickle a submitter's file
            return stored["weight"].astype(np.float32), stored["bias"].astype(np.float32)
    except (OSError, ValueError, KeyError):
        raise SubmissionError("the file is not an .npz holding 'weight' and 'bias' arrays") from None


@register("model_format")
class LinearNpz:
    name = "linear-npz"
    file_suffix = ".npz"

    def inspect(self, source: ModelSource, num_classes: int) -> ModelInfo:
        weight, bias = _read(source)
        side = math.isqrt(weight.shape[0] // 3)
        if weight.ndim != 2 or 3 * side * side != weight.shape[0]:
            raise SubmissionError(f"weight must have shape [3*S*S, classes]; it is {list(weight.shape)}")
        if weight.shape[1] != num_classes or bias.shape != (num_classes,):
            raise SubmissionError(f"the model has {weight.shape[1]} classes; this test set has {num_classes}")
        return ModelInfo(
            num_classes, recipe_from_model={"input_size": side}, details={"input_shape": ["N", 3, side, side]}
        )

    def load(self, source: ModelSource, recipe, num_classes: int) -> LinearPredictor:
        return LinearPredictor(*_read(source))


class LinearPredictor:
    provider = "numpy"

    def __init__(self, weight: np.ndarray, bias: np.ndarray):
        self.weight, self.bias = weight, bias

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return batch.reshape(len(batch), -1) @ self.weight + self.bias

"""Our ONNX conversion of the bundled checkpoints: safe to load, faithful to the original weights."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from evaluator.conversion import akamaster
from evaluator.conversion.bundled_models import MODELS


class RunsACommand:
    """Unpickling this object would run a shell command: exactly what a hostile checkpoint would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_checkpoint_carrying_code_is_refused_before_any_code_runs(tmp_path):
    hostile = tmp_path / "hostile.th"
    marker = tmp_path / "the-command-ran"
    checkpoint = {"best_prec1": 1.0, "state_dict": {"x": RunsACommand(marker)}}
    torch.save(checkpoint, hostile, _use_new_zipfile_serialization=False)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        akamaster.load_state_dict(hostile)
    assert not marker.exists()


def test_the_legacy_checkpoints_load_as_plain_arrays():
    _, path = MODELS["ResNet20 (akamaster)"]
    weights = akamaster.load_state_dict(path)
    assert all(isinstance(value, np.ndarray) for value in weights.values())
    assert weights["conv1.weight"].shape == (16, 3, 3, 3)
    assert weights["linear.weight"].shape == (10, 64)
    assert not any(key.startswith("module.") for key in weights)

"""The stored predictions file (plugins/predictions.py): what is read, and how much, for a label set; the same
values from a local file (a memory map) and from a file that only seeks and reads (an object store's); files
from before log-probabilities were kept."""

from __future__ import annotations

import io

import numpy as np
import pytest

from plugins.predictions import Predictions

EXAMPLES, CLASSES = 2_000, 50


@pytest.fixture(scope="module")
def logits():
    rng = np.random.default_rng(7)
    scores = rng.normal(size=(EXAMPLES, CLASSES)) * 3
    return scores.astype(np.float32)


@pytest.fixture(scope="module")
def stored(logits, tmp_path_factory):
    path = tmp_path_factory.mktemp("predictions") / "1.npz"
    Predictions.from_logits(logits).save(path)
    return path


def reference_log_probs(logits: np.ndarray) -> np.ndarray:
    """float64 log-softmax, one row at a time, with no code of ours."""
    rows = []
    for row in logits.astype(np.float64):
        rows.append(row - row.max() - np.log(np.exp(row - row.max()).sum()))
    return np.stack(rows)


def targets_outside_the_top_5(logits: np.ndarray, share: float) -> np.ndarray:
    """Each example's most probable class, except a share of them whose target is their least probable class."""
    targets = logits.argmax(axis=1)
    moved = np.random.default_rng(3).random(len(targets)) < share
    targets[moved] = logits[moved].argmin(axis=1)
    return targets


@pytest.mark.parametrize("opened", ["local file", "seek and read only"])
def test_only_the_rows_outside_the_top_k_are_read(stored, logits, opened):
    file = stored.open("rb") if opened == "local file" else io.BytesIO(stored.read_bytes())
    predictions = Predictions.load(file)
    compact = predictions.bytes_read()
    payload = EXAMPLES * 5 * (2 + 4) + EXAMPLES * 4  # top classes, their log-probabilities, square sums
    assert 0 <= compact - payload <= 3 * 128  # and each array's .npy header
    targets = targets_outside_the_top_5(logits, 0.1)
    values = predictions.log_prob_of(targets)
    outside = int((targets == logits.argmin(axis=1)).sum())
    assert predictions.bytes_read() - compact == outside * CLASSES * 4
    expected = reference_log_probs(logits)[np.arange(EXAMPLES), targets]
    np.testing.assert_allclose(values, expected, atol=1e-5)
    predictions.close()


def test_no_rows_are_read_for_examples_without_a_label(stored, logits):
    predictions = Predictions.load(stored)
    compact = predictions.bytes_read()
    targets = np.where(np.arange(EXAMPLES) % 2 == 0, logits.argmin(axis=1), -1)
    values = predictions.log_prob_of(targets)
    assert np.isnan(values[1::2]).all()
    assert predictions.bytes_read() - compact == EXAMPLES // 2 * CLASSES * 4


def test_the_whole_matrix_and_the_brier_parts_match_float64(stored, logits):
    predictions = Predictions.load(stored)
    reference = reference_log_probs(logits)
    np.testing.assert_allclose(predictions.log_probs(), reference, atol=1e-5)
    np.testing.assert_allclose(predictions.square_sums, (np.exp(reference) ** 2).sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(predictions.confidence, np.exp(reference.max(axis=1)), rtol=1e-6)
    assert (predictions.top_classes == np.argsort(-reference, axis=1, kind="stable")[:, :5]).all()


def test_a_file_replaced_while_open_is_read_whole_from_the_version_opened(stored, logits, tmp_path):
    path = tmp_path / "2.npz"
    Predictions.from_logits(logits).save(path)
    predictions = Predictions.load(path)
    Predictions.from_logits(-logits).save(path)  # an evaluation run again renames a new file into place
    np.testing.assert_allclose(predictions.log_probs(), reference_log_probs(logits), atol=1e-5)


def test_predictions_stored_as_float16_probabilities_are_still_read(logits, tmp_path):
    """The layout before log-probabilities were kept: read whole and converted, as exact as it was stored."""
    probs = np.exp(reference_log_probs(logits))
    top = np.argsort(-probs, axis=1)[:, :5]
    path = tmp_path / "old.npz"
    np.savez(
        path,
        top_classes=top.astype(np.int16),
        top_probs=np.take_along_axis(probs, top, axis=1).astype(np.float16),
        probs=probs.astype(np.float16),
    )
    predictions = Predictions.load(path)
    stored16 = probs.astype(np.float16).astype(np.float64)
    # the five largest stored probabilities, in order (whichever of two equal float16 values comes first)
    np.testing.assert_array_equal(
        np.take_along_axis(stored16, predictions.top_classes.astype(np.int64), axis=1),
        -np.sort(-stored16, axis=1)[:, :5],
    )
    np.testing.assert_allclose(predictions.log_probs(), np.log(np.maximum(stored16, 1e-12)), atol=1e-5)


def test_a_compressed_or_foreign_file_is_refused(logits, tmp_path):
    path = tmp_path / "compressed.npz"
    predictions = Predictions.from_logits(logits)
    np.savez_compressed(
        path,
        top_classes=predictions.top_classes,
        top_log_probs=predictions.top_log_probs,
        square_sums=predictions.square_sums,
        log_probs=predictions.log_probs(),
    )
    with pytest.raises(ValueError, match="uncompressed"):
        Predictions.load(path)


def test_no_examples_read_by_seek_gives_no_rows(tmp_path):
    path = tmp_path / "empty.npz"
    Predictions.from_logits(np.zeros((0, CLASSES), np.float32)).save(path)
    predictions = Predictions.load(io.BytesIO(path.read_bytes()))
    assert predictions.log_probs().shape == (0, CLASSES)
    assert predictions.log_prob_of(np.zeros(0, np.int64)).shape == (0,)

"""Calibration of the top-1 confidence and the probability of the label: ECE, NLL, Brier score."""

from __future__ import annotations

import numpy as np

from plugins.predictions import Predictions

ECE_BINS = 15


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE with equal-width confidence bins (Guo et al., "On Calibration of Modern Neural Networks", 2017):
    sum over bins of (share of examples in the bin) x |accuracy in the bin - mean confidence in the bin|."""
    if len(confidence) == 0:
        return float("nan")
    _, confidence_sums, correct_sums = _binned(confidence, correct, bins)
    return float(np.abs(correct_sums - confidence_sums).sum() / len(confidence))


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> list[dict]:
    """The reliability diagram behind the ECE, bin by bin (the same bins): its bounds, how many examples it holds,
    their mean confidence and their accuracy (None for an empty bin)."""
    counts, confidence_sums, correct_sums = _binned(confidence, correct, bins)
    return [
        {
            # bounds to 4 places: enough for a chart's axis, and 2/3 written out in full looks like a figure
            "low": round(index / bins, 4),
            "high": round((index + 1) / bins, 4),
            "count": int(count),
            "confidence": float(confidence_sums[index] / count) if count else None,
            "accuracy": float(correct_sums[index] / count) if count else None,
        }
        for index, count in enumerate(counts)
    ]


def _binned(confidence: np.ndarray, correct: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width bin: examples, sum of confidence, sum of hits. Bin b holds confidences in
    (b/bins, (b+1)/bins]; a confidence of exactly 0 goes to the first bin."""
    confidence = np.asarray(confidence, dtype=np.float64)
    index = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    return (
        np.bincount(index, minlength=bins),
        np.bincount(index, weights=confidence, minlength=bins),
        np.bincount(index, weights=correct.astype(np.float64), minlength=bins),
    )


def brier_per_example(predictions: Predictions, log_prob_of_label: np.ndarray) -> np.ndarray:
    """Squared distance between each example's probabilities and its one-hot label (0 to 2):
    sum_c p_c^2 - 2 p_label + 1, the first term stored per example. log_prob_of_label: log_prob_of(targets)."""
    return predictions.square_sums.astype(np.float64) - 2 * np.exp(log_prob_of_label) + 1

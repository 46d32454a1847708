"""Which classes a model takes for which: the whole matrix for a test set of up to FULL_MATRIX_CLASSES classes,
else its TOP_CONFUSIONS largest cells off the diagonal, each with its true class's size."""

from __future__ import annotations

import numpy as np

FULL_MATRIX_CLASSES = 100
TOP_CONFUSIONS = 20


def confusion(targets: np.ndarray, predicted: np.ndarray, num_classes: int) -> dict:
    """{"matrix": rows of counts, true class by predicted class} for up to FULL_MATRIX_CLASSES classes; otherwise
    {"top": [{"true", "predicted", "count", "true_count"}], largest first, ties by class}. Both with
    "true_counts", the examples of each true class."""
    targets, predicted = np.asarray(targets, np.int64), np.asarray(predicted, np.int64)
    true_counts = np.bincount(targets, minlength=num_classes)
    if num_classes <= FULL_MATRIX_CLASSES:
        cells = np.bincount(targets * num_classes + predicted, minlength=num_classes * num_classes)
        return {"matrix": cells.reshape(num_classes, num_classes).tolist(), "true_counts": true_counts.tolist()}
    wrong = targets != predicted
    # one integer per (true, predicted) pair: a 1-D unique, many times faster than unique over rows
    keys, counts = np.unique(targets[wrong] * num_classes + predicted[wrong], return_counts=True)
    pairs = np.stack([keys // num_classes, keys % num_classes], axis=1)
    order = np.lexsort((pairs[:, 1], pairs[:, 0], -counts))[:TOP_CONFUSIONS] if len(counts) else []
    top = [
        {
            "true": int(pairs[i, 0]),
            "predicted": int(pairs[i, 1]),
            "count": int(counts[i]),
            "true_count": int(true_counts[pairs[i, 0]]),
        }
        for i in order
    ]
    return {"top": top, "true_counts": true_counts.tolist()}

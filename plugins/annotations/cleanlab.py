"""Validated test-label errors from cleanlab's human votes (Northcutt, Athalye & Mueller, "Pervasive Label
Errors in Test Sets", NeurIPS 2021 Datasets and Benchmarks).

Five workers voted on each candidate: does the image show the given label, the guessed label, both, or
neither? A candidate is a validated error when fewer than 3 votes confirm the given label; then 3+ votes for
the guessed label make it correctable (relabel), 3+ for both make it multi-label (either is right), 3+ for
neither make it neither, and anything else is non-agreement. The clean test set relabels correctable
examples, accepts both labels for multi-label ones and drops neither and non-agreement.
"""

from __future__ import annotations

import numpy as np

CLEAN, CORRECTABLE, MULTI_LABEL, NEITHER, NON_AGREEMENT = range(5)
STATUS_NAMES = ("clean", "correctable", "multi-label", "neither", "non-agreement")
AGREEMENT = 3  # votes out of 5


def categorise(votes: dict[str, int]) -> int:
    if votes["given"] >= AGREEMENT:
        return CLEAN  # the candidate was not an error after all
    if votes["guessed"] >= AGREEMENT:
        return CORRECTABLE
    if votes["both"] >= AGREEMENT:
        return MULTI_LABEL
    if votes["neither"] >= AGREEMENT:
        return NEITHER
    return NON_AGREEMENT


def clean_label_arrays(
    original: np.ndarray, candidates: list[dict], index_of: dict[int, int] | None = None
) -> dict[str, np.ndarray]:
    """Arrays for the clean label set, from the original labels [N] and cleanlab's mturk records.

    index_of maps a record's id to its example index (ImageNet ids are val file numbers); by default the
    id is the index (CIFAR-10). Returns original [N], targets [N] (corrected), alternative [N] (the second
    accepted label of a multi-label example, else -1) and status [N] (the codes above).
    """
    targets, alternative = original.astype(np.int64).copy(), np.full(len(original), -1, np.int64)
    status = np.full(len(original), CLEAN, np.int8)
    for record in candidates:
        index = index_of[record["id"]] if index_of is not None else record["id"]
        if original[index] != record["given_original_label"]:
            raise ValueError(
                f"cleanlab record {record['id']} gives label {record['given_original_label']}, "
                f"the test set has {original[index]}"
            )
        category = categorise(record["mturk"])
        status[index] = category
        if category == CORRECTABLE:
            targets[index] = record["our_guessed_label"]
        elif category == MULTI_LABEL:
            alternative[index] = record["our_guessed_label"]
    return {"original": original.astype(np.int64), "targets": targets, "alternative": alternative, "status": status}

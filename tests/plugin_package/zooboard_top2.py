"""A label protocol from outside: right if the label is either of the model's two best guesses, with the mean
place of the label among the stored guesses as a loss. Its board's columns, titles and directions are its own,
declared here and nowhere else (plugins/contracts.py: Column)."""

from __future__ import annotations

import numpy as np

from plugins.contracts import Column, Score
from plugins.registry import register


@register("label_protocol")
class TopTwo:
    name = "top-two"
    headline = "top2"
    headline_is_proportion = True
    columns = (
        Column("top2", "Top-2"),
        Column("label_place", "Place of the label", lower_is_better=True, description="mean place among 5 guesses"),
    )

    def score(self, predictions, labels) -> Score:
        targets = labels.targets
        guesses = predictions.top_classes.astype(np.int64)
        found = guesses == targets[:, None]
        hits = found[:, :2].any(axis=1)
        # the label's place among the stored guesses, 1-based; one past them where it is not among them
        place = np.where(found.any(axis=1), found.argmax(axis=1) + 1, guesses.shape[1] + 1)
        share = float(hits.mean())
        spread = 1.96 * np.sqrt(share * (1 - share) / len(hits))
        return Score(
            metrics={"top2": share, "label_place": float(place.mean())},
            intervals={"top2": (share - spread, share + spread)},
            counts={"scored": len(hits)},
            correct=hits,
            per_example=hits.astype(np.float64),
        )

"""Stored predictions x label sets -> metrics, intervals, counts and per-slice results. No model run needed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from plugins import registry
from plugins.contracts import Score
from plugins.metrics.calibration import reliability_bins
from plugins.metrics.confusion import confusion
from plugins.metrics.intervals import wilson_intervals
from plugins.predictions import Predictions
from plugins.testset import LabelSetData, LabelSetInfo, TestSetManifest


def _finite(value):
    """NaN (a metric undefined on no examples) becomes None: JSON, and PostgreSQL's jsonb, have no NaN."""
    return None if isinstance(value, float) and math.isnan(value) else value


def _plain(score: Score) -> dict:
    return {
        "metrics": {name: _finite(value) for name, value in score.metrics.items()},
        "intervals": {name: [_finite(v) for v in pair] for name, pair in score.intervals.items()},
        "counts": score.counts,
    }


DEFAULT_MIN_SLICE = 25


@dataclass(frozen=True)
class SliceMasks:
    """Every slicer's slices as the rows of one sparse matrix [slices, N]: the same for every submission and label
    set, so an evaluation or a re-scoring builds it once. Sparse, because ImageNet's thousand-odd slices over
    50,000 examples are mostly empty: a dense product would cost a re-scoring more than the rest of it."""

    slicers: dict[str, list[str]]  # slicer -> its slices' names, in the matrix's row order
    matrix: sparse.csr_matrix
    counts: np.ndarray  # examples per slice


def slice_masks(root: Path, manifest: TestSetManifest) -> SliceMasks:
    slicers, rows = {}, []
    for name in registry.names("slicer"):
        slices = registry.get("slicer", name).slices(root, manifest)
        slicers[name] = list(slices)
        rows.extend(np.flatnonzero(mask) for mask in slices.values())
    indptr = np.cumsum([0, *(len(row) for row in rows)])
    indices = np.concatenate(rows) if rows else np.empty(0, np.int64)
    matrix = sparse.csr_matrix(
        (np.ones(len(indices)), indices, indptr), shape=(len(rows), manifest.num_examples), dtype=np.float64
    )
    return SliceMasks(slicers, matrix, np.diff(indptr))


def score_label_set(
    predictions: Predictions,
    root: Path,
    manifest: TestSetManifest,
    info: LabelSetInfo,
    min_slice: int = DEFAULT_MIN_SLICE,
    masks: SliceMasks | None = None,
) -> dict:
    """Everything about one label set version; "correct" is a bool array (for paired tests), the rest is JSON.

    Worst-slice summaries consider only slices of at least min_slice examples: they are shown to everyone.
    masks: slice_masks(), when scoring many label sets or submissions."""
    protocol = registry.get("label_protocol", info.protocol)
    labels = LabelSetData.load(root, info)
    score = protocol.score(predictions, labels)
    result = {
        "label_set": info.name,
        "version": info.version,
        "protocol": info.protocol,
        "title": info.title,
        "headline": protocol.headline,
        **_plain(score),
        "curves": score.curves,
        "charts": chart_aggregates(predictions, labels, score),
        "correct": score.correct,
        "per_example": score.per_example,
        "slices": {},
        "summaries": {},
    }
    masks = masks or slice_masks(root, manifest)
    for slicer_name, slices in _slice_scores(masks, score.per_example, protocol).items():
        result["slices"][slicer_name] = slices
        result["summaries"][slicer_name] = _worst_slice(slices, protocol.headline, min_slice)
    for name in registry.names("summary"):
        value = registry.get("summary", name).summarise(root, manifest, score)
        if value is not None:
            result["summaries"][name] = {key: _finite(item) for key, item in value.items()}
    return result


def chart_aggregates(predictions: Predictions, labels: LabelSetData, score: Score) -> dict:
    """What the submission page's charts draw, over the examples the label set scores: the reliability diagram
    (where the protocol has top-1 hits) and the confusion matrix (where it has one label per example). Counts and
    means only, so that a page never reads per-example data."""
    kept = np.ones(len(predictions), bool)
    if score.per_example is not None:
        kept = ~np.isnan(np.asarray(score.per_example, dtype=np.float64))
    charts = {}
    if score.correct is not None:
        confidence = predictions.confidence[kept]
        charts["reliability"] = reliability_bins(confidence, np.asarray(score.correct)[kept])
    if "targets" in labels.arrays:
        charts["confusion"] = confusion(labels.targets[kept], predictions.top_classes[kept, 0], predictions.num_classes)
    return charts


def _slice_scores(masks: SliceMasks, per_example: np.ndarray, protocol) -> dict[str, dict[str, dict]]:
    """The headline metric on every slice at once: means of the per-example values, as two sparse products."""
    scored = ~np.isnan(per_example)
    totals, sums = masks.matrix @ scored.astype(np.float64), masks.matrix @ np.where(scored, per_example, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / totals
    low, high = wilson_intervals(sums, totals) if protocol.headline_is_proportion else (None, None)
    results, row = {}, 0
    for slicer, names in masks.slicers.items():
        results[slicer] = {}
        for name in names:
            interval = [_finite(low[row]), _finite(high[row])] if low is not None else None
            results[slicer][name] = {
                "count": int(masks.counts[row]),
                "counts": {"scored": int(totals[row])},
                "metrics": {protocol.headline: _finite(float(means[row]))},
                "intervals": {protocol.headline: interval} if interval else {},
            }
            row += 1
    return results


def _worst_slice(slices: dict, headline: str, min_slice: int) -> dict:
    """The slice with the lowest headline metric (worst-slice accuracy) among those large enough to show."""
    scored = [
        (values["metrics"].get(headline), name) for name, values in slices.items() if values["count"] >= min_slice
    ]
    scored = [(value, name) for value, name in scored if value is not None]
    if not scored:
        return {}
    value, name = min(scored)
    return {"worst_slice": name, "worst_value": value}


def score_all(
    predictions: Predictions, root: Path, manifest: TestSetManifest, min_slice: int = DEFAULT_MIN_SLICE
) -> dict[str, dict]:
    """Label set name -> its scores, for the current version of every label set of the test set."""
    if len(predictions) != manifest.num_examples:
        raise ValueError(f"{len(predictions)} predictions for a test set of {manifest.num_examples}")
    masks = slice_masks(root, manifest)
    return {
        info.name: score_label_set(predictions, root, manifest, info, min_slice, masks)
        for info in manifest.current_label_sets()
    }


def json_ready(scores: dict[str, dict]) -> dict[str, dict]:
    """scores without the per-example arrays, for JSON output."""
    arrays = ("correct", "per_example")
    return {name: {key: value for key, value in score.items() if key not in arrays} for name, score in scores.items()}

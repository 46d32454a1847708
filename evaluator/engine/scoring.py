"""Stored predictions x label sets -> metrics, intervals, counts and per-slice results. No model run needed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from plugins import registry
from plugins.contracts import Score
from plugins.metrics.calibration import reliability_bins
from plugins.metrics.confusion import confusion
from plugins.metrics.fairness import macro_std
from plugins.metrics.intervals import wilson_intervals
from plugins.predictions import Predictions
from plugins.testset import LabelSetData, LabelSetInfo, TestSetManifest, label_arrays_by_protocol, read_annotations


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


def slice_masks(root: Path, manifest: TestSetManifest, labels: LabelSetData) -> dict[str, dict[str, np.ndarray]]:
    """slicer -> slice -> mask; the same for every submission, so re-scoring computes them once."""
    return {name: registry.get("slicer", name).slices(root, manifest, labels) for name in registry.names("slicer")}


def score_label_set(
    predictions: Predictions,
    root: Path,
    manifest: TestSetManifest,
    info: LabelSetInfo,
    min_slice: int = DEFAULT_MIN_SLICE,
    masks: dict | None = None,
) -> dict:
    """Everything about one label set version; "correct" is a bool array (for paired tests), the rest is JSON.

    Worst-slice summaries consider only slices of at least min_slice examples: they are shown to everyone.
    masks: slice_masks() for this label set, when scoring many submissions."""
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
    for slicer_name, slices in (masks or slice_masks(root, manifest, labels)).items():
        result["slices"][slicer_name] = _slice_scores(slices, score.per_example, protocol)
        result["summaries"][slicer_name] = _worst_slice(result["slices"][slicer_name], protocol.headline, min_slice)
    result["summaries"].update(_macro_std(root, manifest, score.per_example))
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
        confidence = predictions.top_probs[kept, 0]
        charts["reliability"] = reliability_bins(confidence, np.asarray(score.correct)[kept])
    if "targets" in labels.arrays:
        num_classes = predictions.probs.shape[1]
        charts["confusion"] = confusion(labels.targets[kept], predictions.top_classes[kept, 0], num_classes)
    return charts


def _macro_std(root: Path, manifest: TestSetManifest, per_example: np.ndarray) -> dict:
    """MacroStd across ImageNet-X top factors within each class, where the test set has them."""
    annotations = read_annotations(root, manifest)
    original = label_arrays_by_protocol(root, manifest, "original")
    if "imagenet_x_top" not in annotations or original is None:
        return {}
    factors = len(manifest.annotations["names"]["imagenet_x"])
    value = macro_std(
        per_example,
        original["targets"],
        annotations["imagenet_x_top"].astype(np.int64),
        len(manifest.class_names),
        factors,
    )
    return {"macro_std": {"subgroups": "imagenet_x_top_factor", "value": _finite(value)}}


def _slice_scores(slices: dict[str, np.ndarray], per_example: np.ndarray, protocol) -> dict[str, dict]:
    """The headline metric on every slice at once: means of the per-example values, as two matrix products."""
    if not slices:
        return {}
    masks = np.stack(list(slices.values())).astype(np.float64)  # [slices, N]
    scored = ~np.isnan(per_example)
    totals, sums = masks @ scored, masks @ np.where(scored, per_example, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / totals
    low, high = wilson_intervals(sums, totals) if protocol.headline_is_proportion else (None, None)
    results = {}
    for index, name in enumerate(slices):
        interval = [_finite(low[index]), _finite(high[index])] if low is not None else None
        results[name] = {
            "count": int(masks[index].sum()),
            "counts": {"scored": int(totals[index])},
            "metrics": {protocol.headline: _finite(float(means[index]))},
            "intervals": {protocol.headline: interval} if interval else {},
        }
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
    return {
        info.name: score_label_set(predictions, root, manifest, info, min_slice)
        for info in manifest.current_label_sets()
    }


def json_ready(scores: dict[str, dict]) -> dict[str, dict]:
    """scores without the per-example arrays, for JSON output."""
    arrays = ("correct", "per_example")
    return {name: {key: value for key, value in score.items() if key not in arrays} for name, score in scores.items()}

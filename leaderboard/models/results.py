"""Metrics of a submission under one label set version, overall and per slice."""

from __future__ import annotations

import logging

import numpy as np
from django.db import models, transaction

from leaderboard.models.submissions import Status, Submission, ranking
from leaderboard.models.testsets import LabelSet

log = logging.getLogger(__name__)


def pack_correct(correct: np.ndarray | None) -> bytes | None:
    return None if correct is None else np.packbits(correct.astype(bool)).tobytes()


def pack_per_example(values: np.ndarray | None) -> bytes | None:
    """The headline per example as float32 (never float16: a paired test of two close models needs the digits)."""
    return None if values is None else np.asarray(values, dtype="<f4").tobytes()


class ResultManager(models.Manager):
    @transaction.atomic
    def store(self, submission: Submission, scores: dict[str, dict], attempt: int | None = None) -> list[Result]:
        """Writes the engine's scores (label set name -> score_label_set's dict) for their label set versions.

        attempt: the evaluation attempt writing them (evaluator/tasks.py, under its row lock); None when
        re-scoring stored predictions, which replaces the figures and keeps the attempt that made them."""
        stored = []
        for name, score in scores.items():
            label_set = submission.testset.label_sets.filter(name=name, version=score["version"]).first()
            if label_set is None:
                log.warning("no label set %s v%s listed for %s", name, score["version"], submission.testset)
                continue
            result, _ = self.update_or_create(
                submission=submission,
                label_set=label_set,
                defaults={
                    "metrics": score["metrics"],
                    "intervals": score["intervals"],
                    "counts": score["counts"],
                    "summaries": score["summaries"],
                    "curves": score["curves"],
                    "charts": score.get("charts", {}),
                    "headline_metric": score["headline"],
                    "headline": score["metrics"][score["headline"]],
                    "correct_bits": pack_correct(score["correct"]),
                    # a protocol with no single notion of right: its per-example headline, for the paired test
                    "per_example": pack_per_example(score.get("per_example")) if score["correct"] is None else None,
                    **({"attempt": attempt} if attempt is not None else {}),
                },
            )
            result.slices.all().delete()
            SliceResult.objects.bulk_create(
                SliceResult(
                    result=result,
                    slicer=slicer,
                    name=slice_name,
                    count=values["count"],
                    counts=values.get("counts", {}),
                    metrics=values["metrics"],
                    intervals=values["intervals"],
                )
                for slicer, slices in score["slices"].items()
                for slice_name, values in slices.items()
            )
            stored.append(result)
        if submission.status == Status.DONE:  # re-scored: the boards re-rank (a new result waits for DONE)
            ranking().changed({result.label_set_id for result in stored})
        return stored


class Result(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="results")
    label_set = models.ForeignKey(LabelSet, on_delete=models.PROTECT, related_name="results")
    metrics = models.JSONField()
    intervals = models.JSONField(default=dict, help_text="metric -> [low, high], 95%")
    counts = models.JSONField(default=dict)
    summaries = models.JSONField(default=dict, help_text="slicer -> worst slice")
    curves = models.JSONField(default=dict)
    charts = models.JSONField(
        default=dict, blank=True, help_text="what the submission page draws: reliability bins, confusion counts"
    )
    headline_metric = models.CharField(max_length=50)
    headline = models.FloatField(db_index=True, null=True, help_text="the protocol's headline metric, for ranking")
    correct_bits = models.BinaryField(
        null=True, editable=False, help_text="top-1 right per example, bit-packed: for paired tests"
    )
    per_example = models.BinaryField(
        null=True,
        editable=False,
        help_text="the headline metric per example (float32), where there are no correct_bits: for paired tests",
    )
    attempt = models.PositiveSmallIntegerField(null=True, help_text="the evaluation attempt that wrote it")
    created_at = models.DateTimeField(auto_now=True)

    objects = ResultManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["submission", "label_set"], name="unique_result")]

    def __str__(self) -> str:
        return f"{self.submission.name} on {self.label_set}"

    def correct(self, num_examples: int) -> np.ndarray | None:
        if self.correct_bits is None:
            return None
        return np.unpackbits(np.frombuffer(bytes(self.correct_bits), np.uint8), count=num_examples).astype(bool)

    def per_example_values(self) -> np.ndarray | None:
        return None if self.per_example is None else np.frombuffer(bytes(self.per_example), "<f4")


class SliceResult(models.Model):
    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="slices")
    slicer = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    count = models.PositiveIntegerField()
    counts = models.JSONField(default=dict, help_text='"scored": the examples its figures are over (small-slice rule)')
    metrics = models.JSONField()
    intervals = models.JSONField(default=dict)

    class Meta:
        ordering = ["slicer", "name"]

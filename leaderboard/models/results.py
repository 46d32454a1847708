"""Metrics of a submission under one label set version, overall and per slice."""

from __future__ import annotations

import logging

import numpy as np
from django.db import models, transaction

from leaderboard.models.submissions import Submission
from leaderboard.models.testsets import LabelSet

log = logging.getLogger(__name__)


def pack_correct(correct: np.ndarray | None) -> bytes | None:
    return None if correct is None else np.packbits(correct.astype(bool)).tobytes()


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
                    "headline_metric": score["headline"],
                    "headline": score["metrics"][score["headline"]],
                    "correct_bits": pack_correct(score["correct"]),
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
        return stored


class Result(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="results")
    label_set = models.ForeignKey(LabelSet, on_delete=models.PROTECT, related_name="results")
    metrics = models.JSONField()
    intervals = models.JSONField(default=dict, help_text="metric -> [low, high], 95%")
    counts = models.JSONField(default=dict)
    summaries = models.JSONField(default=dict, help_text="slicer -> worst slice")
    curves = models.JSONField(default=dict)
    headline_metric = models.CharField(max_length=50)
    headline = models.FloatField(db_index=True, null=True, help_text="the protocol's headline metric, for ranking")
    correct_bits = models.BinaryField(
        null=True, editable=False, help_text="top-1 right per example, bit-packed: for paired tests"
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

"""Metrics of a submission under one label set, overall and per slice."""

from __future__ import annotations

from django.db import models, transaction

from leaderboard.models.submissions import Submission
from leaderboard.models.testsets import LabelSet


class ResultManager(models.Manager):
    @transaction.atomic
    def store(self, submission: Submission, scores: dict[str, dict]) -> list[Result]:
        """Writes the engine's scores (label set name -> metrics and slices) for the current label sets."""
        label_sets = {ls.name: ls for ls in submission.testset.label_sets.filter(is_current=True)}
        stored = []
        for name, score in scores.items():
            if name not in label_sets:
                continue  # a label set the worker has but the site does not list yet
            result, _ = self.update_or_create(
                submission=submission,
                label_set=label_sets[name],
                defaults={
                    "metrics": score["metrics"],
                    "headline_metric": score["headline"],
                    "headline": score["metrics"][score["headline"]],
                },
            )
            result.slices.all().delete()
            SliceResult.objects.bulk_create(
                SliceResult(
                    result=result,
                    slicer=slicer,
                    name=slice_name,
                    count=values["count"],
                    metrics={k: v for k, v in values.items() if k != "count"},
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
    headline_metric = models.CharField(max_length=50)
    headline = models.FloatField(db_index=True, help_text="the protocol's headline metric, for ranking")
    created_at = models.DateTimeField(auto_now=True)

    objects = ResultManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["submission", "label_set"], name="unique_result")]

    def __str__(self) -> str:
        return f"{self.submission.name} on {self.label_set}"


class SliceResult(models.Model):
    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="slices")
    slicer = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    count = models.PositiveIntegerField()
    metrics = models.JSONField()

    class Meta:
        ordering = ["slicer", "name"]

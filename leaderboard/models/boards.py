"""A board's stored ranking: one row per public result under a label set version, kept up to date when results
change (leaderboard/ranking.py), so that a page reads one indexed page of rows and nothing per example."""

from __future__ import annotations

from django.db import models

from leaderboard.models.results import Result
from leaderboard.models.submissions import Submission
from leaderboard.models.testsets import LabelSet


class TieTest(models.TextChoices):
    MCNEMAR = "mcnemar", "McNemar exact"
    PAIRED_T = "paired-t", "paired t-test"
    INTERVALS = "intervals", "overlapping 95% intervals"


class BoardEntry(models.Model):
    # no index of their own: (label_set, position) serves the label set, and every index is written again when
    # a new leader moves the whole board down one
    label_set = models.ForeignKey(LabelSet, on_delete=models.CASCADE, related_name="entries", db_index=False)
    result = models.OneToOneField(Result, on_delete=models.CASCADE, related_name="entry")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="board_entries")
    position = models.PositiveIntegerField(help_text="1 + the entries ranked ahead by the headline (earlier first)")
    interval_rank = models.PositiveIntegerField(
        help_text="1 + the entries whose 95% interval lies wholly above (better than) this entry's"
    )
    # the paired test against the next entry, and what it was computed from (pair_key), so that it is only
    # computed again when the neighbour or either result changes
    next_result = models.ForeignKey(Result, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False)
    tie_test = models.CharField(max_length=20, choices=TieTest.choices, blank=True)
    p_value_next = models.FloatField(null=True, help_text="the paired test's p-value against the next entry")
    tied_with_next = models.BooleanField(default=False)
    overtaken_at = models.FloatField(
        null=True, help_text="label-noise prevalence at which the next entry's curve reaches this one's"
    )
    crossing_public = models.BooleanField(
        default=False, help_text="both noise curves are shown to everyone (leaderboard/disclosure.py)"
    )
    pair_key = models.CharField(max_length=100, blank=True)
    # What the board sorts and filters by, copied from the result and its submission when the entry's pair is
    # tested again (whenever the result is written): sorting 10,000 entries by a figure kept here takes a few
    # milliseconds, against some 80 through a join to every result's row.
    metrics = models.JSONField(default=dict, help_text="the result's metrics (a copy, for sorting)")
    parameters = models.FloatField(null=True)
    macs = models.FloatField(null=True)
    throughput = models.FloatField(null=True, help_text="images per second")
    latency_ms = models.FloatField(null=True, help_text="median latency of one batch, ms")

    class Meta:
        indexes = [models.Index(fields=["label_set", "position"]), models.Index(fields=["label_set", "interval_rank"])]

    def __str__(self) -> str:
        return f"#{self.position} on {self.label_set_id}: result {self.result_id}"

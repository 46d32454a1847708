"""Test sets (public metadata only: the images and labels stay on the workers) and their label sets."""

from __future__ import annotations

import uuid

from django.db import models


class TestSet(models.Model):
    name = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)
    reader = models.CharField(max_length=100, help_text="the testset_reader plugin that reads its files")
    class_names = models.JSONField()
    num_examples = models.PositiveIntegerField()
    data_path = models.CharField(max_length=500, help_text="where its hidden files live, relative to ZOOBOARD_DATA_DIR")
    default_preprocessing = models.JSONField(
        default=dict, blank=True, help_text="recipe values used where neither submitter nor model says"
    )
    daily_quota = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="submissions per user in any 24 hours (staff exempt); blank: ZOOBOARD_DAILY_QUOTA; 0 closes it",
    )
    requires_approval = models.BooleanField(
        default=False, help_text="moderation: results go public only once staff approve them"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.title

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


class LabelSet(models.Model):
    testset = models.ForeignKey(TestSet, on_delete=models.CASCADE, related_name="label_sets")
    name = models.SlugField()
    protocol = models.CharField(max_length=100, help_text="the label_protocol plugin that scores it")
    title = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True, help_text="leaderboards show the current version by default")
    created_at = models.DateTimeField(auto_now_add=True)
    board_stamp = models.UUIDField(
        default=uuid.uuid4,
        editable=False,
        help_text="drawn afresh whenever its board is re-ranked: what the cached pages are keyed on "
        "(leaderboard/board_cache.py)",
    )
    entry_counts = models.JSONField(
        default=list,
        editable=False,
        help_text="the distinct counts of its entries' results, kept when it is re-ranked: whether any entry "
        "withholds a figure from a sort (leaderboard/boards.py) is known without reading every result",
    )

    class Meta:
        ordering = ["testset", "name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["testset", "name", "version"], name="unique_label_set_version"),
        ]

    @property
    def short_title(self) -> str:
        """The one name a label set goes by in columns, charts and lists ("Plausible labels"): its title up to the
        parenthesis that says where it comes from; the whole title where there is room for it."""
        return (self.title or self.name).split(" (", 1)[0]

    def __str__(self) -> str:
        return f"{self.testset.name}/{self.name} v{self.version}"

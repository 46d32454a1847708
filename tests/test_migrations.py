"""Migrations that move data: run from the state before them on rows made with the models of that time."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("leaderboard", "0006_boards")]
AFTER = [("leaderboard", "0007_board_cache")]


def migrated(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.fixture
def back_to_the_newest(transactional_db):
    """Whatever happens in the test, the schema ends as the other tests expect it: every app's newest."""
    yield
    migrated(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_entries_ranked_before_the_board_cache_get_what_they_are_sorted_by(back_to_the_newest):
    apps = migrated(BEFORE)
    user = apps.get_model("auth", "User").objects.create(username="old")
    testset = apps.get_model("leaderboard", "TestSet").objects.create(
        name="old", title="Old", reader="x", class_names=["a", "b"], num_examples=100, data_path="old"
    )
    label_set = apps.get_model("leaderboard", "LabelSet").objects.create(
        testset=testset, name="original", protocol="original"
    )
    counts = [{"scored": 100}, {"scored": 100}, {"scored": 90, "nll": 20}]
    costs = [
        {"parameters": 1_000, "macs": 2e6, "throughput": 33.5, "latency": {"p50_ms": 4.25}},
        {"parameters": 5_000},  # nothing else measured
        {"parameters": True, "macs": "many"},  # not numbers: nothing kept
    ]
    made = []
    for index, (count, cost) in enumerate(zip(counts, costs, strict=True)):
        submission = apps.get_model("leaderboard", "Submission").objects.create(
            owner=user, testset=testset, name=f"m{index}", preprocessing={}, status="done", efficiency=cost
        )
        metrics = {"top1": 0.5 + index / 10, "nll": 1.0 - index / 10}
        result = apps.get_model("leaderboard", "Result").objects.create(
            submission=submission,
            label_set=label_set,
            metrics=metrics,
            counts=count,
            headline_metric="top1",
            headline=metrics["top1"],
        )
        apps.get_model("leaderboard", "BoardEntry").objects.create(
            label_set=label_set, result=result, submission=submission, position=3 - index, interval_rank=1
        )
        made.append((submission.pk, metrics))

    apps = migrated(AFTER)
    entries = {entry.submission_id: entry for entry in apps.get_model("leaderboard", "BoardEntry").objects.all()}
    for (pk, metrics), cost in zip(made, costs, strict=True):
        entry = entries[pk]
        assert entry.metrics == metrics
        assert (entry.parameters, entry.macs, entry.throughput, entry.latency_ms) == {
            1_000: (1000.0, 2e6, 33.5, 4.25),
            5_000: (5000.0, None, None, None),
            True: (None, None, None, None),
        }[cost["parameters"]]
    stored = apps.get_model("leaderboard", "LabelSet").objects.get(pk=label_set.pk).entry_counts
    assert sorted(stored, key=len) == [{"scored": 100}, {"scored": 90, "nll": 20}]

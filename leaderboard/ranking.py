"""Stored rankings, brought up to date when results change rather than computed per request.

Whatever changes a board calls `changed()` (or one of its shorthands) inside its own transaction: a worker's
results becoming done, a re-score, a moderator hiding, approving, banning or re-running, a label set version
listed by an import. Each affected board (one label set version of a test set) is then re-ranked under a row
lock on its label set, so two workers finishing at once rank one after the other:

- its entries are the done, public results with a headline (leaderboard/models/visibility.py);
- position: by the headline (the protocol's headline column says which way is better), earlier first on ties;
- interval_rank: 1 + the entries whose 95% interval lies wholly on the better side of this entry's (Chatbot
  Arena's rule), counted from the sorted bounds with a binary search, so entries that cannot be told apart
  share a rank;
- the paired test against the next entry (McNemar's exact test on top-1 hits, else a paired t-test on the
  per-example headline, else overlapping intervals) and the label-noise crossing, computed only for pairs
  whose neighbour or results changed, so a new result costs two tests, not one per entry.

Inside `deferred()` (re-scoring a whole test set, seeding a benchmark) boards are re-ranked once, at the end.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models.fields.json import KeyTransform

from leaderboard.columns import headline_column
from leaderboard.disclosure import curve_examples, is_public_count
from leaderboard.models import BoardEntry, LabelSet, Result, Status, Submission, TestSet, TieTest
from plugins.metrics.noise_curve import crossing
from plugins.metrics.paired import TIE_P_VALUE, mcnemar_exact_p, paired_mean_p

PAIRS_PER_QUERY = 200  # per-example data of at most 2 x this many results in memory at once

_deferred: ContextVar[set[int] | None] = ContextVar("deferred_boards", default=None)


def changed(label_set_ids: Iterable[int]) -> None:
    """These boards' results changed: re-rank them now, or at the end of the enclosing deferred()."""
    ids = set(label_set_ids)
    pending = _deferred.get()
    if pending is not None:
        pending.update(ids)
    else:
        refresh(ids)


def submission_changed(submission: Submission) -> None:
    """Every board the submission has a result on (it was done, hidden, shown, approved, re-run...)."""
    changed(Result.objects.filter(submission=submission).values_list("label_set_id", flat=True))


def testset_changed(testset: TestSet) -> None:
    """Every board of the test set, every version (its approval rule changed, a user was banned...)."""
    changed(testset.label_sets.values_list("pk", flat=True))


def owner_changed(user) -> None:
    """Every board the user has a result on (banned, ban lifted)."""
    changed(Result.objects.filter(submission__owner=user).values_list("label_set_id", flat=True).distinct())


@contextmanager
def deferred():
    """Boards changed inside are re-ranked once, when the block ends (nested blocks join the outer one)."""
    if _deferred.get() is not None:
        yield
        return
    pending: set[int] = set()
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    refresh(pending)


def refresh(label_set_ids: Iterable[int]) -> None:
    """Re-ranks the boards, each in its own transaction (a savepoint inside the caller's) under its row lock,
    taken in id order so that concurrent refreshes cannot deadlock."""
    for pk in sorted(set(label_set_ids)):
        with transaction.atomic():
            label_set = LabelSet.objects.select_for_update().select_related("testset").filter(pk=pk).first()
            if label_set is not None:
                _rerank(label_set)


def refresh_all() -> int:
    """Every board (after an upgrade, or by `manage.py rank`); how many."""
    ids = list(LabelSet.objects.values_list("pk", flat=True))
    refresh(ids)
    return len(ids)


def eligible_results(label_set: LabelSet):
    """The results a board ranks: done, public, with a headline."""
    return Result.objects.filter(label_set=label_set, headline__isnull=False, submission__status=Status.DONE).filter(
        submission__in=Submission.objects.public()
    )


@dataclass
class _Ranked:
    result_id: int
    submission_id: int
    headline: float
    low: float
    high: float
    changed_at: datetime
    finished_at: datetime | None


def _rerank(label_set: LabelSet) -> None:
    column = headline_column(label_set.protocol)
    metric = column.metric if column else ""
    lower_is_better = bool(column and column.lower_is_better)
    ranked = [
        _Ranked(pk, submission, headline, *_bounds(bounds, headline), changed_at, finished_at)
        for pk, submission, headline, bounds, changed_at, finished_at in eligible_results(label_set)
        .annotate(bounds=KeyTransform(metric, "intervals"))
        .values_list("pk", "submission_id", "headline", "bounds", "created_at", "submission__finished_at")
    ]
    sign = 1 if lower_is_better else -1
    # earlier first on equal headlines, then the older result: the same order on every refresh
    ranked.sort(key=lambda row: (sign * row.headline, _time(row.finished_at), row.result_id))
    interval_ranks = _interval_ranks(ranked, lower_is_better)

    existing = {
        entry.result_id: entry
        for entry in BoardEntry.objects.filter(label_set=label_set).only(
            "pk", "result_id", "position", "interval_rank", "next_result_id", "pair_key"
        )
    }
    wanted = {row.result_id for row in ranked}
    stale = [entry.pk for result_id, entry in existing.items() if result_id not in wanted]
    BoardEntry.objects.filter(pk__in=stale).delete()

    created, moved, retest = [], [], []
    for index, row in enumerate(ranked):
        following = ranked[index + 1] if index + 1 < len(ranked) else None
        entry = existing.get(row.result_id)
        if entry is None:
            entry = BoardEntry(label_set=label_set, result_id=row.result_id, submission_id=row.submission_id)
            created.append(entry)
        order = (index + 1, interval_ranks[index], following.result_id if following else None)
        if (entry.position, entry.interval_rank, entry.next_result_id) != order and entry.pk is not None:
            moved.append(entry)
        entry.position, entry.interval_rank, entry.next_result_id = order
        key = _pair_key(row, following)
        if entry.pk is None or entry.pair_key != key:
            entry.pair_key = key
            retest.append((entry, row, following))

    _test_pairs(retest, label_set.testset.num_examples)
    BoardEntry.objects.bulk_create(created, batch_size=1000)
    retested = [entry for entry, _, _ in retest if entry.pk is not None]
    _update(set(moved) - set(retested), ["position", "interval_rank", "next_result"])
    _update(retested, ["position", "interval_rank", "next_result", *PAIR_FIELDS])


PAIR_FIELDS = ["pair_key", "tie_test", "p_value_next", "tied_with_next", "overtaken_at", "crossing_public"]


def _time(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else math.inf


def _bounds(bounds, headline: float) -> tuple[float, float]:
    """The stored 95% interval of the headline, or the headline itself where there is none."""
    if isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(v, int | float) for v in bounds):
        low, high = bounds
        if math.isfinite(low) and math.isfinite(high):
            return float(low), float(high)
    return headline, headline


def _interval_ranks(ranked: list[_Ranked], lower_is_better: bool) -> list[int]:
    """1 + how many entries are better beyond doubt: their whole interval on the better side of this one's."""
    if lower_is_better:
        highs = sorted(row.high for row in ranked)
        return [1 + bisect_left(highs, row.low) for row in ranked]
    lows = sorted(row.low for row in ranked)
    return [1 + len(lows) - bisect_right(lows, row.high) for row in ranked]


def _pair_key(row: _Ranked, following: _Ranked | None) -> str:
    """What the pair's test depends on: the neighbour, and when either result was last written."""
    if following is None:
        return ""
    return f"{following.result_id}:{row.changed_at.timestamp()}:{following.changed_at.timestamp()}"


def _test_pairs(pairs: list, num_examples: int) -> None:
    """The paired test and the noise-curve crossing of each (entry, row, next row), in chunks of results."""
    for start in range(0, len(pairs), PAIRS_PER_QUERY):
        chunk = pairs[start : start + PAIRS_PER_QUERY]
        ids = {row.result_id for _, row, _ in chunk} | {nxt.result_id for _, _, nxt in chunk if nxt}
        fields = ("pk", "correct_bits", "per_example", "curves", "counts")
        results = {result.pk: result for result in Result.objects.filter(pk__in=ids).only(*fields)}
        for entry, row, following in chunk:
            _test_pair(entry, row, following, results, num_examples)


def _test_pair(entry: BoardEntry, row: _Ranked, following: _Ranked | None, results: dict, num_examples: int) -> None:
    entry.tie_test, entry.p_value_next, entry.tied_with_next = "", None, False
    entry.overtaken_at, entry.crossing_public = None, False
    if following is None:
        return
    this, other = results[row.result_id], results[following.result_id]
    correct = this.correct(num_examples), other.correct(num_examples)
    values = this.per_example_values(), other.per_example_values()
    if correct[0] is not None and correct[1] is not None:
        entry.tie_test, entry.p_value_next = TieTest.MCNEMAR, mcnemar_exact_p(*correct)
    elif values[0] is not None and values[1] is not None and len(values[0]) == len(values[1]):
        entry.tie_test, entry.p_value_next = TieTest.PAIRED_T, paired_mean_p(*values)
    else:
        entry.tie_test = TieTest.INTERVALS
    if entry.p_value_next is not None:
        entry.tied_with_next = entry.p_value_next >= TIE_P_VALUE
    else:  # no per-example data: tied where the intervals overlap
        entry.tied_with_next = row.low <= following.high and following.low <= row.high
    curves = this.curves.get("noise"), other.curves.get("noise")
    if curves[0] and curves[1]:
        entry.overtaken_at = crossing(*curves)
        entry.crossing_public = all(is_public_count(curve_examples(result, "noise")) for result in (this, other))


# PostgreSQL types of the columns _update writes, for unnest()
_ARRAY_TYPES = {
    "PositiveIntegerField": "integer",
    "ForeignKey": "bigint",
    "FloatField": "double precision",
    "BooleanField": "boolean",
    "CharField": "text",
}


def _update(entries: Iterable[BoardEntry], fields: list[str]) -> None:
    """Writes these fields of the entries. On PostgreSQL one UPDATE from unnest()ed arrays: a new leader moves
    every entry down one, and Django's bulk_update would send a CASE of thousands of branches per column."""
    entries = list(entries)
    if not entries:
        return
    if connection.vendor != "postgresql":
        BoardEntry.objects.bulk_update(entries, fields, batch_size=500)
        return
    columns = [BoardEntry._meta.get_field(name) for name in fields]
    arrays = [[entry.pk for entry in entries]] + [[getattr(entry, c.attname) for entry in entries] for c in columns]
    types = ["bigint"] + [_ARRAY_TYPES[c.get_internal_type()] for c in columns]
    names = ", ".join(['"id"'] + [f'"{c.column}"' for c in columns])
    assignments = ", ".join(f'"{c.column}" = v."{c.column}"' for c in columns)
    unnested = ", ".join(f"%s::{kind}[]" for kind in types)
    table = BoardEntry._meta.db_table
    sql = f'UPDATE "{table}" AS e SET {assignments} FROM unnest({unnested}) AS v({names}) WHERE e."id" = v."id"'
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)

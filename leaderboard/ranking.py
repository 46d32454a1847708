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

import threading
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, TextField
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Cast

from leaderboard import queue
from leaderboard.columns import headline_column
from leaderboard.disclosure import curve_examples, is_public_count, minimum
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
    finally:  # also when the block fails half way: what it stored before is re-ranked
        _deferred.reset(token)
        refresh(pending)


def lock(label_set_ids: Iterable[int]) -> None:
    """Takes the boards' row locks now, in id order, inside the caller's transaction: for a change that deletes
    entries (a re-run), so that it waits for a re-ranking in progress instead of deadlocking with it."""
    list(LabelSet.objects.select_for_update().filter(pk__in=set(label_set_ids)).order_by("pk").values_list("pk"))


_after_commit = threading.local()


def changed_after_commit(label_set_ids: Iterable[int]) -> None:
    """For deletions (signals, cascades of many results): the boards are re-ranked after the transaction
    commits, each once however many of its results went. Every call registers a flush; the first one to run
    takes all that is pending, the others find nothing (a rolled-back transaction's boards are re-ranked by the
    next flush, which costs a re-ranking that changes nothing)."""
    pending = _after_commit.__dict__.setdefault("ids", set())
    pending.update(label_set_ids)
    transaction.on_commit(_flush_after_commit)


def _flush_after_commit() -> None:
    ids, _after_commit.ids = _after_commit.__dict__.get("ids", set()), set()
    if ids:
        changed(ids)


def refresh(label_set_ids: Iterable[int]) -> None:
    """Re-ranks the boards, each in its own transaction (a savepoint inside the caller's) under its row lock,
    taken in id order so that concurrent refreshes cannot deadlock. Once the caller's transaction commits, a
    worker makes their test sets' whole-board exports ahead (leaderboard/board_cache.py)."""
    testsets = set()
    for pk in sorted(set(label_set_ids)):
        with transaction.atomic():
            label_set = LabelSet.objects.select_for_update().select_related("testset").filter(pk=pk).first()
            if label_set is not None:
                _rerank(label_set)
                counts = Result.objects.filter(entry__label_set=label_set).values_list("counts", flat=True)
                LabelSet.objects.filter(pk=pk).update(
                    board_stamp=uuid.uuid4(), entry_counts=[value or {} for value in counts.distinct()]
                )
                testsets.add(label_set.testset_id)
    if testsets:
        transaction.on_commit(lambda: queue.enqueue_exports(testsets))


def restamp(label_set_ids: Iterable[int]) -> None:
    """The boards' cached pages are stale (leaderboard/board_cache.py): each gets a new stamp, seen by readers
    when the caller's transaction commits, together with what changed; then their exports are made ahead."""
    ids = sorted(set(label_set_ids))
    for pk in ids:
        LabelSet.objects.filter(pk=pk).update(board_stamp=uuid.uuid4())
    testsets = set(LabelSet.objects.filter(pk__in=ids).values_list("testset_id", flat=True))
    if testsets:
        transaction.on_commit(lambda: queue.enqueue_exports(testsets))


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
    changed_at: str  # when the result was last written, as the database prints it (for the pair key)


def _rerank(label_set: LabelSet) -> None:
    """Rows come sorted from the database and are read as plain tuples: at 10,000 entries, building model
    instances and parsing timestamps in Python would cost more than everything else together."""
    column = headline_column(label_set.protocol)
    metric = column.metric if column else ""
    lower_is_better = bool(column and column.lower_is_better)
    headline = F("headline").asc() if lower_is_better else F("headline").desc()
    rows = (
        eligible_results(label_set)
        .annotate(bounds=KeyTransform(metric, "intervals"), changed=Cast("created_at", TextField()))
        # earlier first on equal headlines, then the older result: the same order on every refresh
        .order_by(headline, F("submission__finished_at").asc(nulls_last=True), "pk")
        .values_list("pk", "submission_id", "headline", "bounds", "changed")
    )
    ranked = [_Ranked(pk, sub, value, *_bounds(bounds, value), changed) for pk, sub, value, bounds, changed in rows]
    interval_ranks = _interval_ranks(ranked, lower_is_better)

    fields = ("result_id", "pk", "position", "interval_rank", "next_result_id", "pair_key")
    existing = {values[0]: values[1:] for values in BoardEntry.objects.filter(label_set=label_set).values_list(*fields)}
    wanted = {row.result_id for row in ranked}
    BoardEntry.objects.filter(
        pk__in=[pk for result_id, (pk, *_) in existing.items() if result_id not in wanted]
    ).delete()

    changed, retest = [], []  # changed: {"pk", "result_id", ...} of every entry to write
    for index, row in enumerate(ranked):
        following = ranked[index + 1] if index + 1 < len(ranked) else None
        order = (index + 1, interval_ranks[index], following.result_id if following else None)
        key = _pair_key(row, following)
        pk, *stored_order, stored_key = existing.get(row.result_id, (None, None, None, None, None))
        if pk is not None and tuple(stored_order) == order and stored_key == key:
            continue  # unchanged: not written
        entry = {"pk": pk, "result_id": row.result_id, "submission_id": row.submission_id}
        entry.update(zip(ORDER_FIELDS, order, strict=True))
        changed.append(entry)
        if stored_key != key:
            entry["pair_key"] = key
            retest.append((entry, row, following))

    _test_pairs(retest, label_set.testset.num_examples)
    BoardEntry.objects.bulk_create(
        [BoardEntry(label_set=label_set, **_fields(entry)) for entry in changed if entry["pk"] is None],
        batch_size=1000,
    )
    existing_changed = [entry for entry in changed if entry["pk"] is not None]
    _update([entry for entry in existing_changed if "pair_key" not in entry], ORDER_FIELDS)
    retested = [entry for entry in existing_changed if "pair_key" in entry]
    _update(retested, ORDER_FIELDS + PAIR_FIELDS)
    # JSON, which _update's arrays do not carry; a few entries a refresh, but for a re-score
    BoardEntry.objects.bulk_update(
        [BoardEntry(pk=entry["pk"], metrics=entry["metrics"]) for entry in retested], ["metrics"], batch_size=500
    )


ORDER_FIELDS = ["position", "interval_rank", "next_result_id"]
# with the copies of the result's figures the board sorts by (BoardEntry.metrics goes on its own)
COPIED_FIELDS = ["parameters", "macs", "throughput", "latency_ms"]
PAIR_FIELDS = ["pair_key", "tie_test", "p_value_next", "tied_with_next", "overtaken_at", "crossing_public"]
PAIR_FIELDS += COPIED_FIELDS


def _bounds(bounds, headline: float) -> tuple[float, float]:
    """The stored 95% interval of the headline, or the headline itself where there is none (or a bound is
    missing: JSON keeps no NaN)."""
    try:
        low, high = bounds
        return float(low), float(high)
    except (TypeError, ValueError):
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
    if following is None:  # the last entry: no test, but its copies (_copies) follow its result
        return f"-:{row.changed_at}"
    # the small-slice setting too: whether the crossing is public depends on it (`manage.py rank` after a change)
    return f"{following.result_id}:{row.changed_at}:{following.changed_at}:{minimum()}"


def _test_pairs(pairs: list, num_examples: int) -> None:
    """The paired test and the noise-curve crossing of each (entry dict, row, next row), in chunks of results."""
    for start in range(0, len(pairs), PAIRS_PER_QUERY):
        chunk = pairs[start : start + PAIRS_PER_QUERY]
        ids = {row.result_id for _, row, _ in chunk} | {nxt.result_id for _, _, nxt in chunk if nxt}
        fields = ("pk", "correct_bits", "per_example", "curves", "counts", "metrics")
        fields += ("submission", "submission__efficiency")
        chosen = Result.objects.filter(pk__in=ids).select_related("submission").only(*fields)
        results = {result.pk: result for result in chosen}
        for entry, row, following in chunk:
            _test_pair(entry, row, following, results, num_examples)


def _test_pair(entry: dict, row: _Ranked, following: _Ranked | None, results: dict, num_examples: int) -> None:
    """Sets the entry's PAIR_FIELDS (but pair_key) from its pair's test, and its copies of what it sorts by."""
    this = results[row.result_id]
    entry.update(_copies(this))
    entry.update(tie_test="", p_value_next=None, tied_with_next=False, overtaken_at=None, crossing_public=False)
    if following is None:
        return
    other = results[following.result_id]
    correct = this.correct(num_examples), other.correct(num_examples)
    values = this.per_example_values(), other.per_example_values()
    if correct[0] is not None and correct[1] is not None:
        entry.update(tie_test=TieTest.MCNEMAR.value, p_value_next=mcnemar_exact_p(*correct))
    elif values[0] is not None and values[1] is not None and len(values[0]) == len(values[1]):
        entry.update(tie_test=TieTest.PAIRED_T.value, p_value_next=paired_mean_p(*values))
    else:
        entry["tie_test"] = TieTest.INTERVALS.value
    if entry["p_value_next"] is not None:
        entry["tied_with_next"] = entry["p_value_next"] >= TIE_P_VALUE
    else:  # no per-example data: tied where the intervals overlap
        entry["tied_with_next"] = row.low <= following.high and following.low <= row.high
    curves = this.curves.get("noise"), other.curves.get("noise")
    if curves[0] and curves[1]:
        entry["overtaken_at"] = crossing(*curves)
        entry["crossing_public"] = all(is_public_count(curve_examples(r, "noise")) for r in (this, other))


def _copies(result: Result) -> dict:
    """What an entry keeps of its result and its submission to be sorted and filtered by."""
    cost = result.submission.efficiency or {}
    return {
        "metrics": result.metrics or {},
        "parameters": _number(cost.get("parameters")),
        "macs": _number(cost.get("macs")),
        "throughput": _number(cost.get("throughput")),
        "latency_ms": _number((cost.get("latency") or {}).get("p50_ms")),
    }


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _fields(entry: dict) -> dict:
    """An entry dict as BoardEntry's keyword arguments."""
    return {key: value for key, value in entry.items() if key != "pk" or value is not None}


# PostgreSQL types of the columns _update writes, for unnest()
_ARRAY_TYPES = {
    "PositiveIntegerField": "integer",
    "ForeignKey": "bigint",
    "FloatField": "double precision",
    "BooleanField": "boolean",
    "CharField": "text",
}


def _update(entries: list[dict], fields: list[str]) -> None:
    """Writes these fields (attribute names: next_result_id) of the entries, given as dicts with their pk.

    On PostgreSQL, one UPDATE from unnest()ed arrays: a new leader moves every entry down one, and Django's
    bulk_update would build a model instance per entry and send a CASE of thousands of branches per column."""
    if not entries:
        return
    columns = [next(f for f in BoardEntry._meta.concrete_fields if f.attname == name) for name in fields]
    if connection.vendor != "postgresql":
        instances = [BoardEntry(pk=entry["pk"], **{name: entry[name] for name in fields}) for entry in entries]
        BoardEntry.objects.bulk_update(instances, [column.name for column in columns], batch_size=500)
        return
    arrays = [[entry["pk"] for entry in entries]] + [[entry[name] for entry in entries] for name in fields]
    types = ["bigint"] + [_ARRAY_TYPES[c.get_internal_type()] for c in columns]
    names = ", ".join(['"id"'] + [f'"{c.column}"' for c in columns])
    assignments = ", ".join(f'"{c.column}" = v."{c.column}"' for c in columns)
    unnested = ", ".join(f"%s::{kind}[]" for kind in types)
    table = BoardEntry._meta.db_table
    sql = f'UPDATE "{table}" AS e SET {assignments} FROM unnest({unnested}) AS v({names}) WHERE e."id" = v."id"'
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)

"""The small-slice rule: every figure computed over fewer than ZOOBOARD_MIN_SLICE examples is for staff only.
The API, the pages, the leaderboard and its chart all ask here which of a result's figures a user may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings

# What the rule protects:
# - every figure by the examples it is over, as the protocol records them (Score.counts, plugins/contracts.py):
#   metrics with their intervals, curves, summaries, slices (by the examples their figure is over, not their
#   images: the clean protocol leaves some images out), the other label sets' headlines beside a leaderboard;
# - differences within a slicer: where a slicer's slices are disjoint (class, superclass, label status, label
#   multiplicity, ImageNet-X top factor), the total minus the visible slices gives the rest together, so the
#   next-smallest slices are withheld too until the withheld ones cover ZOOBOARD_MIN_SLICE examples; a slicer
#   with no figure left to show is withheld whole. The site cannot see the masks (they stay on the workers),
#   so it takes a slicer whose slices hold no more images than the test set for a disjoint one: a slicer that
#   overlaps and still fits is only ever withheld more than it needs;
# - differences across label sets: a slice is the same images under every label set, and label sets score
#   many images alike (the clean label set keeps the original label of every clean image), so a slice
#   withheld under one of a submission's label sets is withheld under all of them. CIFAR-10's clean images
#   are: under the clean labels they and 18 correctable images make the total; the original labels' clean
#   slice would give the 18 away from the clean total as surely as the clean labels' own.
# Not protected:
# - differences of slices that overlap (ImageNet-X factors, where an image has several; the mistakes slicer,
#   whose categories and severities split the same images twice): which sums of them are differences of
#   others depends on overlaps the site does not know; each slice obeys the size rule, no more;
# - slices nested across slicers (a superclass minus its visible classes), and figures of one label set
#   against another other than through the same slice (a total against a slice it shares images with);
# - differences of a curve's nested points: random subsets of correctly labeled examples, which no slice
#   names (the clean protocol's curve count covers its smallest point and the examples its first point
#   leaves out of the total);
# - the order of a leaderboard whose headline is withheld, and anything learnt by submitting models made to
#   probe the labels (Blum & Hardt's "Ladder", 2015): a figure over many examples answers those too.


def sees_everything(user) -> bool:
    return bool(user is not None and user.is_active and user.is_staff)


def minimum() -> int:
    return settings.ZOOBOARD_MIN_SLICE


def small_note() -> str:
    return f"fewer than {minimum()} images: shown to staff only"


def complement_note() -> str:
    return (
        f"withheld so that slices of fewer than {minimum()} images cannot be worked out from the total and the "
        "others: shown to staff only"
    )


def carried_note() -> str:
    return f"fewer than {minimum()} images under another of its label sets: shown to staff only"


BREAKDOWN_NOTE = "the rest of its breakdown is withheld: shown to staff only"
UNKNOWN_NOTE = "how many images it is over is not recorded: shown to staff only"


def _reason(examples: int | None) -> str | None:
    """Why a figure over this many examples is for staff only, or None; 0 examples means no figure at all."""
    if examples is None:
        return UNKNOWN_NOTE
    return small_note() if 0 < examples < minimum() else None


def _reasons_by_count(names, counts: dict, default, limit: int) -> dict[str, str]:
    """name -> why, for the figures over too few examples: counts[name] (else default) is how many a figure is
    over. limit is minimum(), read once by the caller: a board export asks this of every row. Written as one
    loop, without metric_examples' lookups, for the same reason."""
    reasons, small = {}, None
    for name in names:
        count = counts.get(name, default)
        if not isinstance(count, int):
            reasons[name] = UNKNOWN_NOTE
        elif 0 < count < limit:
            small = small or small_note()
            reasons[name] = small
    return reasons


def withheld_reason(metric: str, counts: dict) -> str | None:
    """Why a metric of a result with these counts is for staff only, or None (metric_figures' rule)."""
    return _reasons_by_count([metric], counts, counts.get("scored"), minimum()).get(metric)


def is_public_count(examples: int | None) -> bool:
    """Whether a figure over this many examples is shown to everyone."""
    return _reason(examples) is None


def metric_examples(result, name: str) -> int | None:
    """How many examples a metric (and its interval) is over: its own count, else the protocol's scored ones."""
    counts = result.counts or {}
    examples = counts.get(name, counts.get("scored"))
    return examples if isinstance(examples, int) else None


def curve_examples(result, name: str) -> int | None:
    examples = (result.counts or {}).get(f"curves.{name}")
    return examples if isinstance(examples, int) else None


def slice_examples(item) -> int:
    """The examples a slice's figure is over. SliceResult.counts["scored"] where stored; else its images, or
    none where it has no figure (a slice of images the protocol leaves out)."""
    stored = getattr(item, "counts", None) or {}
    if isinstance(stored.get("scored"), int):
        return stored["scored"]
    return 0 if all(value is None for value in item.metrics.values()) else item.count


def _kept(values: dict, reasons: dict, staff: bool) -> dict:
    if staff or not reasons:
        return dict(values)
    return {name: value for name, value in values.items() if name not in reasons}


@dataclass
class Figures:
    """What one user sees of one result. staff_only: kind -> name -> why (slices: slicer -> slice -> why): the
    figures staff see and everyone else does not."""

    result: object
    metrics: dict
    intervals: dict
    curves: dict
    summaries: dict = field(default_factory=dict)
    slices: list = field(default_factory=list)
    staff_only: dict = field(default_factory=dict)
    slice_notes: list[str] = field(default_factory=list)
    charts: dict = field(default_factory=dict)  # the submission page's (chart_figures)

    @property
    def counts(self) -> dict:
        """The label set's counts, without those that only say how many examples a figure is over."""
        result = self.result
        return {
            name: value
            for name, value in (result.counts or {}).items()
            if name not in result.metrics and not name.startswith("curves.")
        }


def metric_figures(
    result, user, staff: bool | None = None, curves: bool = True, limit: int | None = None, memo: dict | None = None
) -> Figures:
    """Metrics, intervals and curves of one result (what a leaderboard row needs). staff: sees_everything(user)
    and limit: minimum(), where the caller knows them already; curves=False leaves the curves out (a board row
    reads none). memo: the reasons found for earlier results of the same call (board()), by their counts'
    identity and their figures' names: a board's results share one counts object (leaderboard/boards.py), so
    the rule is worked out once per board, not once per row."""
    staff = sees_everything(user) if staff is None else staff
    limit = minimum() if limit is None else limit
    counts = result.counts or {}
    key = (id(counts), tuple(result.metrics), tuple(result.intervals)) if memo is not None else None
    if key is not None and key in memo:
        _, metric_reasons, interval_reasons = memo[key]
    else:
        metric_reasons = _reasons_by_count(result.metrics, counts, counts.get("scored"), limit)
        interval_reasons = {name: why for name, why in metric_reasons.items() if name in result.intervals}
        unmeasured = [name for name in result.intervals if name not in result.metrics]
        interval_reasons.update(_reasons_by_count(unmeasured, counts, counts.get("scored"), limit))
        if key is not None:
            memo[key] = (counts, metric_reasons, interval_reasons)  # counts kept alive: its id is not reused
    all_curves = result.curves if curves else {}
    curve_counts = {name: counts.get(f"curves.{name}") for name in all_curves}
    curve_reasons = _reasons_by_count(all_curves, curve_counts, None, limit)
    return Figures(
        result=result,
        metrics=_kept(result.metrics, metric_reasons, staff),
        intervals=_kept(result.intervals, interval_reasons, staff),
        curves=_kept(all_curves, curve_reasons, staff),
        staff_only={
            kind: reasons for kind, reasons in (("metrics", metric_reasons), ("curves", curve_reasons)) if reasons
        },
    )


def figures_of(submission, user) -> list[Figures]:
    """What this user may see of each of the submission's results, in label set order (its page, a comparison)."""
    results = submission.results.select_related("label_set").prefetch_related("slices").order_by("label_set_id")
    return submission_figures(list(results), user, submission.testset.num_examples)


def submission_figures(results: list, user, num_examples: int) -> list[Figures]:
    """Everything about each of a submission's results, its slices decided for all of them together."""
    staff = sees_everything(user)
    decided = slice_reasons(results, num_examples)
    shown = []
    for result in results:
        figures, reasons = metric_figures(result, user), decided[result.pk]
        summary_reasons = _summary_reasons(result, reasons)
        figures.summaries = _kept(result.summaries or {}, summary_reasons, staff)
        figures.slices = [
            item for item in result.slices.all() if staff or item.name not in reasons.get(item.slicer, {})
        ]
        figures.staff_only.update(
            {kind: value for kind, value in (("summaries", summary_reasons), ("slices", reasons)) if value}
        )
        figures.slice_notes = [] if staff else _slice_notes(reasons)
        figures.charts = chart_figures(result.charts or {}, staff)
        shown.append(figures)
    return shown


def chart_figures(charts: dict, staff: bool) -> dict:
    """The charts' aggregates as this reader may see them: a reliability bin's accuracy and confidence, and a
    confusion row (or top confusion), over fewer than minimum() images are withheld (None, with the reason),
    their counts kept. Staff see everything."""
    if staff or not charts:
        return charts
    shown = dict(charts)
    if "reliability" in charts:
        shown["reliability"] = [
            {**item, "confidence": None, "accuracy": None, "withheld": small_note()} if _reason(item["count"]) else item
            for item in charts["reliability"]
        ]
    confusion = charts.get("confusion")
    if confusion:
        sizes = confusion["true_counts"]
        shown["confusion"] = dict(confusion)
        if "matrix" in confusion:
            shown["confusion"]["matrix"] = [
                None if _reason(sizes[i]) else row for i, row in enumerate(confusion["matrix"])
            ]
        if "top" in confusion:
            shown["confusion"]["top"] = [item for item in confusion["top"] if not _reason(item["true_count"])]
        if any(_reason(size) for size in sizes):
            shown["confusion"]["withheld"] = f"classes of {small_note()}"
    return shown


@dataclass
class _Breakdown:
    """One slicer's slices under one label set, as the rule needs them."""

    result_pk: int
    total: int | None  # the examples the label set's headline is over
    examples: dict[str, int]  # slice -> the examples its figure is over
    disjoint: bool  # its slices hold no more images than the test set (see the top of this module)

    def gives_away(self, withheld: set[str]) -> bool:
        """Whether the (visible) total less the visible slices is a figure over 1 to minimum() - 1 examples."""
        if self.total is None or self.total < minimum() or not self.disjoint:
            return False
        left = self.total - sum(n for name, n in self.examples.items() if name not in withheld)
        return 0 < left < minimum()


def slice_reasons(results: list, num_examples: int) -> dict[int, dict[str, dict[str, str]]]:
    """result pk -> slicer -> slice -> why its figure is for staff only. A slice is withheld under all of the
    results' label sets or under none (see the top of this module)."""
    by_slicer = defaultdict(list)
    for result in results:
        items = defaultdict(list)
        for item in result.slices.all():
            items[item.slicer].append(item)
        total = metric_examples(result, result.headline_metric)
        for slicer, group in items.items():
            examples = {item.name: slice_examples(item) for item in group}
            disjoint = sum(item.count for item in group) <= num_examples
            by_slicer[slicer].append(_Breakdown(result.pk, total, examples, disjoint))
    decided = {result.pk: {} for result in results}
    for slicer, breakdowns in by_slicer.items():
        small, complement = _withheld(breakdowns)
        for breakdown in breakdowns:
            if reasons := _reasons(breakdown, small, complement):
                decided[breakdown.result_pk][slicer] = reasons
    return decided


def _withheld(breakdowns: list[_Breakdown]) -> tuple[set[str], set[str]]:
    """One slicer's slices withheld under every label set: those too small under any, and complementary ones,
    each the smallest visible one where a total would still give the withheld ones away; then each
    complementary one is shown again if no total needs it any more (it may have been chosen too early)."""
    small = {name for breakdown in breakdowns for name, n in breakdown.examples.items() if _reason(n)}
    complement: list[str] = []
    while breakdown := next((b for b in breakdowns if b.gives_away(small | set(complement))), None):
        visible = sorted(
            (n, name) for name, n in breakdown.examples.items() if n and name not in small | set(complement)
        )
        complement.append(visible[0][1])  # there is one: with every slice withheld, nothing is given away
    for name in reversed(list(complement)):
        rest = small | set(complement) - {name}
        if not any(breakdown.gives_away(rest) for breakdown in breakdowns):
            complement.remove(name)
    return small, set(complement)


def _reasons(breakdown: _Breakdown, small: set[str], complement: set[str]) -> dict[str, str]:
    reasons = {}
    for name, n in breakdown.examples.items():
        if why := _reason(n):
            reasons[name] = why
        elif name in small:
            reasons[name] = carried_note()
        elif name in complement:
            reasons[name] = complement_note()
    withheld_figures = any(breakdown.examples[name] for name in reasons)
    if withheld_figures and not any(n for name, n in breakdown.examples.items() if name not in reasons):
        # no figure left to show: the breakdown goes whole
        reasons.update({name: BREAKDOWN_NOTE for name in breakdown.examples if name not in reasons})
    return reasons


def _summary_reasons(result, reasons: dict[str, dict[str, str]]) -> dict[str, str]:
    """A worst slice is withheld with its slice; another summary (MacroStd) by the examples it is over."""
    named = {(item.slicer, item.name) for item in result.slices.all()}
    summary_reasons = {}
    for name, summary in (result.summaries or {}).items():
        if not summary:
            continue
        if "worst_slice" in summary:
            worst = summary["worst_slice"]
            why = reasons.get(name, {}).get(worst) or (None if (name, worst) in named else UNKNOWN_NOTE)
        else:
            why = _reason(summary.get("count", metric_examples(result, result.headline_metric)))
        if why:
            summary_reasons[name] = why
    return summary_reasons


def _slice_notes(reasons: dict[str, dict[str, str]]) -> list[str]:
    """One sentence per kind of withheld slice, for the submission page."""
    small = sum(why == small_note() for named in reasons.values() for why in named.values())
    notes = [f"{small} slice(s) with fewer than {minimum()} images are shown to staff only."] if small else []
    for slicer, named in sorted(reasons.items()):
        others = [why for why in named.values() if why != small_note()]
        if others:
            notes.append(f"{slicer}: {len(others)} more slice(s) shown to staff only, {others[0]}.")
    return notes


@dataclass
class RowFigures:
    """What one user sees of one leaderboard row: its figures, the other label sets' headlines, the crossing."""

    row: object
    figures: Figures
    beside: dict = field(default_factory=dict)  # label set -> its visible metrics
    beside_headlines: dict = field(default_factory=dict)  # label set -> {"metric", "value", "reason"}
    overtaken_at: float | None = None
    # the paired test against the next entry is shown where the headline is: a p-value over a few examples
    # tells their discordant counts
    pair_shown: bool = True

    @property
    def tied_with_next(self) -> bool:
        return self.pair_shown and self.row.tied_with_next

    @property
    def p_value_next(self) -> float | None:
        return self.row.p_value_next if self.pair_shown else None

    @property
    def tie_test(self) -> str | None:
        return (self.row.tie_test or None) if self.pair_shown else None


def row_figures(
    row, user, label_set_name: str, staff: bool | None = None, limit: int | None = None, memo: dict | None = None
) -> RowFigures:
    """row: a leaderboard.boards.Row (its result, the results beside it, and its stored crossing)."""
    staff = sees_everything(user) if staff is None else staff
    limit = minimum() if limit is None else limit
    figures = metric_figures(row.result, user, staff, curves=False, limit=limit, memo=memo)
    headline_withheld = row.result.headline_metric in figures.staff_only.get("metrics", {})
    shown = RowFigures(row=row, figures=figures, pair_shown=staff or not headline_withheld)
    for name, other in row.others.items():
        if name == label_set_name:
            continue
        other_figures = metric_figures(other, user, staff, curves=False, limit=limit, memo=memo)
        shown.beside[name] = other_figures.metrics
        headline = other.headline_metric
        shown.beside_headlines[name] = {
            "metric": headline,
            "value": other_figures.metrics.get(headline),
            "reason": other_figures.staff_only.get("metrics", {}).get(headline),
        }
    # the crossing compares two curves: shown where both are (leaderboard/ranking.py records whether they are)
    if row.overtaken_at is not None and (staff or row.crossing_public):
        shown.overtaken_at = row.overtaken_at
    return shown


@dataclass
class Board:
    columns: list  # plugins.contracts.Column, shown
    withheld_columns: list  # (metric, title, why) withheld from this user in every row
    rows: list[RowFigures]
    staff_only_columns: set = field(default_factory=set)  # metrics shown to this (staff) user only


def board(rows: list, columns: list, user, label_set_name: str) -> Board:
    """A leaderboard as this user sees it: a column withheld in every row is left out, with why."""
    staff, limit, memo = sees_everything(user), minimum(), {}
    shown_rows = [row_figures(row, user, label_set_name, staff, limit, memo) for row in rows]
    kept, withheld, staff_only = [], [], set()
    for column in columns:
        reasons = [row.figures.staff_only.get("metrics", {}).get(column.metric) for row in shown_rows]
        if shown_rows and all(reasons):
            if not staff:
                withheld.append((column.metric, column.title, reasons[0]))
                continue
            staff_only.add(column.metric)
        kept.append(column)
    return Board(columns=kept, withheld_columns=withheld, rows=shown_rows, staff_only_columns=staff_only)

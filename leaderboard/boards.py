"""Reading a board: one label set version's stored ranking (leaderboard/ranking.py), filtered, sorted, paged or
exported, as one user may see it. The page, the API and both exports take the same parameters through here:

    sort=METRIC|rank|interval_rank|<other label set>|params|gmacs|throughput|latency|name|owner|evaluated
    order=asc|desc (default: the column's own direction, losses ascending)
    model_format= arch= params_min= params_max= owner= since= until= q=     (django-filter: BoardFilter)
    page=N per_page=K (50 by default, at most 200)

A page costs a constant number of queries whatever the board's size; nothing per example is read."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import django_filters
from django import forms
from django.db.models import F, FloatField, OuterRef, Subquery, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Lower
from rest_framework.utils.encoders import JSONEncoder

from leaderboard.columns import board_columns, headline_column, is_loss
from leaderboard.disclosure import Board, board, sees_everything, withheld_reason
from leaderboard.models import BoardEntry, LabelSet, Result, TestSet
from plugins import registry
from plugins.contracts import Column

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
EXPORT_CHUNK = 1000
EXPORTS = ("csv", "json")
# What a board row reads, and nothing else: at 10,000 rows an export spends its time building objects and
# decoding JSON, so per-example data, preprocessing, timings and the submission page's figures stay behind.
ROW_FIELDS = (
    *("label_set", "result", "submission", "position", "interval_rank", "tie_test", "p_value_next"),
    *("tied_with_next", "overtaken_at", "crossing_public"),
    *("result__metrics", "result__intervals", "result__counts", "result__headline_metric"),
    *("submission__name", "submission__owner", "submission__owner__username", "submission__model_format"),
    *("submission__architecture", "submission__is_baseline", "submission__finished_at", "submission__efficiency"),
    *("submission__paper_url", "submission__code_url"),
)


@dataclass
class Beside:
    """A submission's result under another label set, as a row shows it (its headline, if this user may)."""

    headline_metric: str
    metrics: dict
    counts: dict
    intervals: dict = field(default_factory=dict)


class BoardError(Exception):
    """A request this board cannot answer, in one sentence: 400 (a bad parameter) or 404 (nothing there)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Row:
    """One entry as the templates, the API and the exports read it; `others`: label set -> the submission's
    result under the test set's other current label sets (the figures shown beside)."""

    entry: BoardEntry
    others: dict[str, Result] = field(default_factory=dict)

    label_set_version: int = 0  # the board's: every entry of a board is under its label set version

    rank = property(lambda self: self.entry.position)
    interval_rank = property(lambda self: self.entry.interval_rank)
    result = property(lambda self: self.entry.result)
    submission = property(lambda self: self.entry.submission)
    p_value_next = property(lambda self: self.entry.p_value_next)
    tied_with_next = property(lambda self: self.entry.tied_with_next)
    tie_test = property(lambda self: self.entry.tie_test)
    overtaken_at = property(lambda self: self.entry.overtaken_at)
    crossing_public = property(lambda self: self.entry.crossing_public)

    @property
    def tie_test_title(self) -> str:
        return self.entry.get_tie_test_display()


# sort keys other than the board's metrics and label sets: (expression, lower is better); the costs are the
# entry's copies (leaderboard/ranking.py)
FIXED_SORTS = {
    "rank": (F("position"), True),
    "interval_rank": (F("interval_rank"), True),
    "params": (F("parameters"), True),
    "gmacs": (F("macs"), True),
    "throughput": (F("throughput"), False),
    "latency": (F("latency_ms"), True),
    "name": (Lower("submission__name"), True),
    "owner": (Lower("submission__owner__username"), True),
    "evaluated": (F("submission__finished_at"), False),
}


class FloatFilter(django_filters.NumberFilter):
    """A number as a float (forms.FloatField refuses NaN and infinities), not django-filter's Decimal."""

    field_class = forms.FloatField


class BoardFilter(django_filters.FilterSet):
    """The board's filters; each value is checked (BoardQuery.check_filters) so that an unknown one is a 400
    with a sentence rather than an empty board."""

    model_format = django_filters.CharFilter(field_name="submission__model_format", max_length=50)
    arch = django_filters.CharFilter(field_name="submission__architecture", lookup_expr="iexact", max_length=100)
    params_min = FloatFilter(field_name="parameters", lookup_expr="gte", min_value=0, max_value=1e13)
    params_max = FloatFilter(field_name="parameters", lookup_expr="lte", min_value=0, max_value=1e13)
    owner = django_filters.CharFilter(field_name="submission__owner__username", max_length=150)
    since = django_filters.DateFilter(field_name="submission__finished_at", lookup_expr="date__gte")
    until = django_filters.DateFilter(field_name="submission__finished_at", lookup_expr="date__lte")
    q = django_filters.CharFilter(field_name="submission__name", lookup_expr="icontains", max_length=200)

    class Meta:
        model = BoardEntry
        fields: list[str] = []


FILTERS = tuple(BoardFilter.base_filters)


def label_set_for(testset: TestSet, name: str, version: str | None) -> LabelSet:
    """The label set version a board shows (the current one by default); a 404 with a sentence otherwise."""
    label_sets = testset.label_sets.filter(name=name)
    if version not in (None, ""):
        if not (str(version).isascii() and str(version).isdigit()) or len(str(version)) > 9:
            raise BoardError(f"version must be a whole number, not {str(version)[:40]!r}")
        found = label_sets.filter(version=int(version)).first()
        if found is None:
            versions = ", ".join(str(v) for v in label_sets.values_list("version", flat=True)) or "none"
            raise BoardError(f"{testset.name} has no version {version} of {name!r} (versions: {versions})", 404)
        return found
    found = label_sets.filter(is_current=True).order_by("-version").first()
    if found is None:
        names = ", ".join(sorted(set(testset.label_sets.values_list("name", flat=True)))) or "none yet"
        raise BoardError(f"{testset.name} has no label set named {name[:60]!r} (its label sets: {names})", 404)
    return found


@dataclass
class BoardQuery:
    testset: TestSet
    label_set: LabelSet
    user: object
    columns: list[Column]
    beside: list[LabelSet]  # the test set's other current label sets, shown beside
    sort: str = "rank"
    descending: bool = False
    filters: dict = field(default_factory=dict)
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    filterset: BoardFilter | None = None
    per_page_choices = (25, DEFAULT_PER_PAGE, 100, MAX_PER_PAGE)

    @classmethod
    def parse(cls, testset: TestSet, params, user) -> BoardQuery:
        """Reads and checks the request's parameters; BoardError with a sentence for any it cannot honour."""
        label_set = label_set_for(testset, params.get("label_set") or "original", params.get("version"))
        current = [ls for ls in testset.label_sets.all() if ls.is_current]  # prefetched by the views
        query = cls(
            testset=testset,
            label_set=label_set,
            user=user,
            columns=board_columns(label_set.protocol),
            beside=sorted((ls for ls in current if ls.name != label_set.name), key=lambda ls: ls.pk),
        )
        query._read_sort(params.get("sort") or "rank", params.get("order"))
        query._read_page(params)
        query._read_filters(params)
        return query

    # -- parameters ------------------------------------------------------------------------------------------
    def sort_keys(self) -> list[str]:
        return [c.metric for c in self.columns] + [ls.name for ls in self.beside] + list(FIXED_SORTS)

    def _read_sort(self, sort: str, order: str | None) -> None:
        if sort not in self.sort_keys():
            raise BoardError(f"cannot sort by {sort[:60]!r}: this board sorts by {', '.join(self.sort_keys())}")
        if order not in (None, "", "asc", "desc"):
            raise BoardError(f"order must be asc or desc, not {order[:40]!r}")
        self.sort = sort
        self.descending = (order == "desc") if order else not self._lower_is_better(sort)
        if not sees_everything(self.user):
            self._check_sort_disclosed(sort)

    def _check_sort_disclosed(self, sort: str) -> None:
        """A sort by a figure withheld from this user in any entry would give away its order: refused. The
        counts a figure's rule reads are checked over every distinct set of them on the board, which its
        re-ranking keeps (LabelSet.entry_counts: a label set's results share theirs, so there are one or two)."""
        if sort in {c.metric for c in self.columns}:
            metric, label_set = sort, self.label_set
        elif (other := next((ls for ls in self.beside if ls.name == sort), None)) is not None:
            metric, label_set = _headline_metric(other), other
        else:
            return
        for counts in label_set.entry_counts:
            why = withheld_reason(metric, counts)
            if why:
                raise BoardError(f"cannot sort by {sort}: its figures are over {why}")

    def _lower_is_better(self, sort: str) -> bool:
        if sort in FIXED_SORTS:
            return FIXED_SORTS[sort][1]
        other = next((ls for ls in self.beside if ls.name == sort), None)
        if other is not None:
            column = headline_column(other.protocol)
            return bool(column and column.lower_is_better)
        return is_loss(sort) or any(c.metric == sort and c.lower_is_better for c in self.columns)

    def _read_page(self, params) -> None:
        self.page = _whole_number("page", params.get("page"), 1, None, 1)
        self.per_page = _whole_number("per_page", params.get("per_page"), 1, MAX_PER_PAGE, DEFAULT_PER_PAGE)

    def _read_filters(self, params) -> None:
        data = {name: params.get(name) for name in FILTERS if params.get(name) not in (None, "")}
        self.filterset = BoardFilter(data, queryset=self._board())
        if not self.filterset.is_valid():
            name, errors = next(iter(self.filterset.errors.items()))
            raise BoardError(f"{name}={str(data.get(name))[:40]!r}: {' '.join(errors)}")
        self.filters = {name: value for name, value in self.filterset.form.cleaned_data.items() if name in data}
        self._check_filters()

    def _check_filters(self) -> None:
        """Values that name nothing are refused, so that a typo is never mistaken for an empty board."""
        values = self.filters
        if "model_format" in values and values["model_format"] not in registry.names("model_format"):
            formats = ", ".join(registry.names("model_format"))
            raise BoardError(f"no model format is named {values['model_format']!r} (formats: {formats})")
        owner = values.get("owner")
        by_owner = BoardEntry.objects.filter(label_set__testset=self.testset, submission__owner__username=owner)
        if owner and not by_owner.exists():
            # said of this test set's entries, not of accounts: a board does not tell which usernames exist
            raise BoardError(f"no entry on {self.testset.name} is by {owner!r}")
        entries = BoardEntry.objects.filter(label_set__testset=self.testset)
        if "arch" in values and not entries.filter(submission__architecture__iexact=values["arch"]).exists():
            families = set(entries.values_list(Lower("submission__architecture"), flat=True).distinct()) - {""}
            listed = ", ".join(sorted(families)) or "none recorded yet"
            raise BoardError(f"no entry on {self.testset.name} is of architecture {values['arch']!r} ({listed})")
        for low, high in (("params_min", "params_max"), ("since", "until")):
            if low in values and high in values and values[low] > values[high]:
                raise BoardError(f"{low}={values[low]} is beyond {high}={values[high]}: nothing can match")

    @property
    def in_board_order(self) -> bool:
        """Every entry in ranking order: each row's next row is the entry its tie and crossing are against."""
        return self.sort == "rank" and not self.descending and not self.filters

    def params(self) -> dict[str, str]:
        """The parameters that make this view (for links: sort headers, pages, exports)."""
        chosen = {"label_set": self.label_set.name, "sort": self.sort, "order": "desc" if self.descending else "asc"}
        if not self.label_set.is_current:
            chosen["version"] = str(self.label_set.version)
        chosen.update({name: str(value) for name, value in self.filters.items()})
        return chosen

    # -- rows ------------------------------------------------------------------------------------------------
    def entries(self):
        """The board's entries, filtered (once parsed) and sorted."""
        if self.filterset is None:
            return self._board().order_by(*self._ordering())
        entries = self.filterset.qs
        return entries.order_by(*self._ordering())

    def _board(self):
        """The board's stored entries: only public ones are stored (leaderboard/ranking.py), so the public rule
        is not applied again here. Applied per request, its ban and approval conditions led PostgreSQL's planner
        to join every entry before taking a page of 50 (0.4 s at 10,000 entries, against 2 ms)."""
        return BoardEntry.objects.filter(label_set=self.label_set)

    def _ordering(self) -> list:
        if self.sort in FIXED_SORTS:
            expression = FIXED_SORTS[self.sort][0]
        elif self.sort in {ls.name for ls in self.beside}:
            other = next(ls for ls in self.beside if ls.name == self.sort)
            beside = Result.objects.filter(submission=OuterRef("submission"), label_set=other).values("headline")
            expression = Subquery(beside[:1], output_field=FloatField())
        else:
            expression = Cast(KeyTextTransform(self.sort, "metrics"), FloatField())
        ordered = expression.desc(nulls_last=True) if self.descending else expression.asc(nulls_last=True)
        return [ordered, "position"]

    def count(self) -> int:
        return self.entries().count()

    def pages(self, count: int) -> int:
        return max(1, -(-count // self.per_page))

    def page_rows(self, count: int, beside_metrics: bool = True) -> list[Row]:
        """beside_metrics=False: of the results beside, their headline only (all the web page shows of them)."""
        if self.page > self.pages(count):
            raise BoardError(f"page {self.page} is past the last page, {self.pages(count)}", 404)
        start = (self.page - 1) * self.per_page
        # the page's ids first, sorted among the entries alone (joined only where a filter or a sort asks), then
        # those rows with what they show: sorted and joined at once, PostgreSQL joined every entry first
        chosen = list(self.entries().values_list("pk", flat=True)[start : start + self.per_page])
        found = {entry.pk: entry for entry in self._selected(BoardEntry.objects.filter(pk__in=chosen))}
        return self._rows(_sharing_counts([found[pk] for pk in chosen if pk in found]), beside_metrics)

    def baselines(self) -> list[Row]:
        """The board's baselines, whatever the filters and page: pinned above the rows as references."""
        entries = self._board().filter(submission__is_baseline=True)
        return self._rows(_sharing_counts(self._selected(entries).order_by("position")[:MAX_PER_PAGE]))

    def _selected(self, entries):
        return entries.select_related("result", "submission__owner").only(*ROW_FIELDS)

    def _rows(self, entries, beside_metrics: bool = True) -> list[Row]:
        """beside_metrics=False: of the results beside, their headline only (all the CSV export shows)."""
        rows = [Row(entry, label_set_version=self.label_set.version) for entry in entries]
        if rows and self.beside:
            others = Result.objects.filter(
                submission__in=[row.entry.submission_id for row in rows], label_set__in=self.beside
            ).values_list(
                "submission_id",
                "label_set__name",
                "headline_metric",
                "metrics" if beside_metrics else "headline",
                Cast("counts", TextField()),
            )
            by_submission: dict[int, dict[str, Beside]] = {}
            decoded = _Decoded()
            for submission, label_set, headline, metrics, counts in others:
                metrics = metrics if beside_metrics else {headline: metrics}
                by_submission.setdefault(submission, {})[label_set] = Beside(headline, metrics, decoded(counts))
            for row in rows:
                row.others = by_submission.get(row.entry.submission_id, {})
        return rows

    def shown(self, rows: list[Row]) -> Board:
        """The rows as this user may see them (leaderboard/disclosure.py)."""
        return board(rows, self.columns, self.user, self.label_set.name)

    # -- exports ---------------------------------------------------------------------------------------------
    def _shown_chunks(self, beside_metrics: bool = True) -> Iterator[Board]:
        """Every row of the filtered, sorted board as this user may see it, EXPORT_CHUNK rows at a time, from one
        query (one snapshot: a re-ranking meanwhile cannot skip or repeat a row). Read as tuples, not model
        instances: 10,000 rows of five models each took longer to build than to fetch and write out."""
        counts = Cast("result__counts", TextField())  # decoded once per distinct value (_Decoded)
        rows = self.entries().values_list(*EXPORT_FIELDS, counts).iterator(chunk_size=EXPORT_CHUNK)
        decoded = _Decoded()
        for chunk in iter(lambda: list(itertools.islice(rows, EXPORT_CHUNK)), []):
            exported = [_Exported(values[:-1], decoded(values[-1])) for values in chunk]
            yield self.shown(self._rows(exported, beside_metrics))

    def csv_lines(self) -> Iterator[str]:
        """The export as CSV, EXPORT_CHUNK lines at a time (a socket write per line cost more than the lines):
        the shown columns' values and intervals, flattened; the columns are those the first rows show (as on the
        first page)."""
        buffer = _Line()
        writer = csv.writer(buffer)
        header = None
        for chunk in itertools.chain(self._shown_chunks(beside_metrics=False), [None]):
            if header is None:
                columns = chunk.columns if chunk is not None else self.shown([]).columns
                metrics = [column.metric for column in columns]
                beside = [(ls, _headline_metric(ls)) for ls in self.beside]
                header = _csv_header(metrics, beside)
                writer.writerow(header)
                yield buffer.take()
            for shown_row in chunk.rows if chunk is not None else []:
                writer.writerow(_csv_row(row_dict(shown_row), metrics, beside))
            if chunk is not None:
                yield buffer.take()

    def json_chunks(self, request=None) -> Iterator[str]:
        """The export as the API's page of the board would show it with every row on one page (board_body),
        written EXPORT_CHUNK rows at a time."""
        count = self.count()
        chunks = self._shown_chunks()
        first = next(chunks, None)
        shown = first if first is not None else self.shown([])
        body = board_body(self, Board(shown.columns, shown.withheld_columns, [], shown.staff_only_columns), count)
        body.update(page=1, per_page=max(count, 1), pages=1)
        text = json.dumps(body, cls=JSONEncoder)
        yield text[: text.rindex('"rows": []')] + '"rows": ['
        separator = "\n"
        for chunk in itertools.chain([first] if first is not None else [], chunks):
            rows = [json.dumps(row_dict(shown_row), cls=JSONEncoder) for shown_row in chunk.rows]
            yield separator + ",\n".join(rows)
            separator = ",\n"
        yield "\n]}\n"


def board_body(query: BoardQuery, shown: Board, count: int, request=None) -> dict:
    """A page of the board as the API answers it (leaderboard/api/schemas.py: LeaderboardSerializer); "rows"
    comes last, so that an export can stream it."""
    pages = query.pages(count)

    def link(page: int) -> str | None:
        if not 1 <= page <= pages or request is None:
            return None
        params = {**query.params(), "page": page, "per_page": query.per_page}
        return request.build_absolute_uri(request.path) + "?" + urlencode(params)

    return {
        "testset": query.testset.name,
        "label_set": query.label_set.name,
        "version": query.label_set.version,
        "current": query.label_set.is_current,
        "protocol": query.label_set.protocol,
        "sort": query.sort,
        "order": "desc" if query.descending else "asc",
        "filters": {name: str(value) for name, value in query.filters.items()},
        "count": count,
        "page": query.page,
        "per_page": query.per_page,
        "pages": pages,
        "next": link(query.page + 1),
        "previous": link(query.page - 1),
        "columns": [
            {"metric": c.metric, "title": c.title, "lower_is_better": c.lower_is_better} for c in shown.columns
        ],
        "staff_only_columns": [
            {"metric": key, "title": title, "reason": why} for key, title, why in shown.withheld_columns
        ],
        "beside": [
            {"label_set": ls.name, "version": ls.version, "metric": _headline_metric(ls), "title": ls.title or ls.name}
            for ls in query.beside
        ],
        "baselines": [row_dict(row) for row in query.shown(query.baselines()).rows],
        "rows": [row_dict(row) for row in shown.rows],
    }


def _csv_header(metrics: list[str], beside: list[tuple[LabelSet, str]]) -> list[str]:
    return [
        "rank",
        "interval_rank",
        "submission",
        "name",
        "owner",
        "model_format",
        "architecture",
        "baseline",
        *[f"{metric}{part}" for metric in metrics for part in ("", "_low", "_high")],
        *[f"{ls.name}.{metric}" for ls, metric in beside],
        "tied_with_next",
        "tie_test",
        "p_value_next",
        "overtaken_at",
        "parameters",
        "macs",
        "throughput",
        "latency_p50_ms",
        "finished_at",
        "paper_url",
        "code_url",
    ]


def _cell(text: str) -> str:
    """Text a submitter wrote, made inert for spreadsheets: a leading =, +, - or @ would start a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_row(row: dict, metrics: list[str], beside: list[tuple[LabelSet, str]]) -> list:
    cost, intervals = row["efficiency"] or {}, row["intervals"]
    return [
        row["rank"],
        row["interval_rank"],
        row["submission"],
        _cell(row["name"]),
        _cell(row["owner"]),
        _cell(row["model_format"]),
        _cell(row["architecture"]),
        row["baseline"],
        *[
            value
            for metric in metrics
            for value in (row["metrics"].get(metric), *(intervals.get(metric) or [None, None]))
        ],
        *[row["beside"].get(ls.name, {}).get(metric) for ls, metric in beside],
        row["tied_with_next"],
        row["tie_test"],
        row["p_value_next"],
        row["overtaken_at"],
        cost.get("parameters"),
        cost.get("macs"),
        cost.get("throughput"),
        (cost.get("latency") or {}).get("p50_ms"),
        row["finished_at"].isoformat() if row["finished_at"] else "",
        _cell(row["paper_url"]),
        _cell(row["code_url"]),
    ]


# an export's row, as tuples: the entry, its result and its submission (what ROW_FIELDS loads for a page)
EXPORT_FIELDS = (
    *("position", "interval_rank", "tie_test", "p_value_next", "tied_with_next", "overtaken_at", "crossing_public"),
    *("result__metrics", "result__intervals", "result__headline_metric"),
    *("submission_id", "submission__name", "submission__owner__username", "submission__model_format"),
    *("submission__architecture", "submission__is_baseline", "submission__finished_at", "submission__efficiency"),
    *("submission__paper_url", "submission__code_url"),
)


class _Exported:
    """An export row's tuple (EXPORT_FIELDS) and its result's counts, with the attributes Row and
    leaderboard/disclosure.py read of an entry; its result and its submission likewise. Slotted classes, not
    model instances or SimpleNamespaces: 40,000 of either took a tenth of an export's time to build."""

    __slots__ = ("position", "interval_rank", "tie_test", "p_value_next", "tied_with_next", "overtaken_at")
    __slots__ += ("crossing_public", "submission_id", "result", "submission")

    def __init__(self, values: tuple, counts: dict):
        (self.position, self.interval_rank, self.tie_test, self.p_value_next, self.tied_with_next) = values[:5]
        self.overtaken_at, self.crossing_public = values[5:7]
        self.result = _ExportedResult(*values[7:10], counts)
        self.submission = _ExportedSubmission(*values[10:])
        self.submission_id = self.submission.pk


class _ExportedResult:
    __slots__ = ("metrics", "intervals", "headline_metric", "counts")

    def __init__(self, metrics: dict, intervals: dict, headline_metric: str, counts: dict):
        self.metrics, self.intervals, self.headline_metric, self.counts = metrics, intervals, headline_metric, counts


class _ExportedSubmission:
    __slots__ = ("pk", "name", "owner", "model_format", "architecture", "is_baseline", "finished_at", "efficiency")
    __slots__ += ("paper_url", "code_url")

    def __init__(self, pk, name, owner, model_format, *rest):
        self.pk, self.name, self.owner, self.model_format = pk, name, _Owner(owner), model_format
        (self.architecture, self.is_baseline, self.finished_at, self.efficiency, self.paper_url, self.code_url) = rest


class _Owner:
    __slots__ = ("username",)

    def __init__(self, username: str):
        self.username = username


def _sharing_counts(entries) -> list:
    """The entries, their results' equal counts made one object: leaderboard/disclosure.py works out the
    small-slice rule once per counts object, and a board's results share one or two sets of counts."""
    entries, shared = list(entries), {}
    for entry in entries:
        counts = entry.result.counts
        entry.result.counts = shared.setdefault(json.dumps(counts, sort_keys=True), counts)
    return entries


def _headline_metric(label_set: LabelSet) -> str:
    column = headline_column(label_set.protocol)
    return column.metric if column else ""


class _Decoded:
    """JSON text decoded once per distinct value: a board's results share their counts (one or two distinct
    sets), and decoding 20,000 copies of them was a fifth of an export's time. The decoded dicts are shared:
    read-only."""

    def __init__(self):
        self.seen: dict[str | None, dict] = {}

    def __call__(self, text: str | None) -> dict:
        if text not in self.seen:
            self.seen[text] = (json.loads(text) if text else None) or {}
        return self.seen[text]


class _Line:
    """csv.writer's file: keeps what it wrote until taken."""

    def __init__(self):
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text


def row_dict(shown_row) -> dict:
    """One row as the API and the JSON export show it."""
    row, figures = shown_row.row, shown_row.figures
    submission = row.submission
    return {
        "rank": row.rank,
        "interval_rank": row.interval_rank,
        "submission": submission.pk,
        "name": submission.name,
        "owner": submission.owner.username,
        "model_format": submission.model_format,
        "architecture": submission.architecture,
        "baseline": submission.is_baseline,
        "metrics": figures.metrics,
        "intervals": figures.intervals,
        "staff_only": figures.staff_only,
        "label_set_version": row.label_set_version,
        "beside": shown_row.beside,
        "tie_test": shown_row.tie_test,
        "p_value_next": shown_row.p_value_next,
        "tied_with_next": shown_row.tied_with_next,
        "overtaken_at": shown_row.overtaken_at,
        "finished_at": submission.finished_at,
        "efficiency": submission.efficiency,
        "paper_url": submission.paper_url,
        "code_url": submission.code_url,
    }


def _whole_number(name: str, value, low: int, high: int | None, default: int) -> int:
    if value in (None, ""):
        return default
    allowed = f"from {low} to {high}" if high is not None else f"of at least {low}"
    text = str(value)
    number = int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None
    if number is None or number < low or (high is not None and number > high):
        raise BoardError(f"{name} must be a whole number {allowed}, not {str(value)[:40]!r}")
    return number

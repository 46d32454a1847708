"""The home page (every board with its leader) and each board: filtered, sorted, paged, exported."""

from __future__ import annotations

from django.db.models import Count
from django.shortcuts import get_object_or_404, render

from leaderboard.boards import EXPORTS, ROW_FIELDS, BoardError, BoardQuery, Row, export_response
from leaderboard.charts import cost_points
from leaderboard.columns import board_columns
from leaderboard.disclosure import board
from leaderboard.models import BoardEntry, LabelSet, Submission, TestSet
from leaderboard.models.submissions import FINISHED


def index(request):
    """Each current board (test set x label set) with its size, version, entry count and leader: three queries
    whatever the boards' sizes."""
    label_sets = list(
        LabelSet.objects.filter(is_current=True).select_related("testset").order_by("testset__name", "pk")
    )
    counts = dict(
        BoardEntry.objects.filter(label_set__in=label_sets)
        .values("label_set")
        .annotate(n=Count("pk"))
        .values_list("label_set", "n")
    )
    leaders = {
        entry.label_set_id: entry
        for entry in BoardEntry.objects.filter(label_set__in=label_sets, position=1)
        .select_related("result", "submission__owner")
        .only(*ROW_FIELDS)
    }
    testsets: dict[int, dict] = {}
    for label_set in label_sets:
        columns = board_columns(label_set.protocol)
        leader = leaders.get(label_set.pk)
        shown = board([Row(leader)] if leader else [], columns[:1], request.user, label_set.name)
        group = testsets.setdefault(label_set.testset_id, {"testset": label_set.testset, "boards": []})
        group["boards"].append(
            {
                "label_set": label_set,
                "entries": counts.get(label_set.pk, 0),
                "column": columns[0] if columns else None,
                "leader": shown.rows[0] if shown.rows else None,
            }
        )
    return render(request, "leaderboard/index.html", {"testsets": list(testsets.values())})


def leaderboard(request, name: str):
    testset = get_object_or_404(TestSet.objects.prefetch_related("label_sets"), name=name)
    export = request.GET.get("format", "")
    try:
        if export and export not in EXPORTS:
            raise BoardError(
                f"format={export[:40]!r} is not an export: format=csv or format=json exports the board; "
                "model_format= filters it by model format"
            )
        query = BoardQuery.parse(testset, request.GET, request.user)
        if export:
            return export_response(query, export)
        count = query.count()
        rows = query.page_rows(count)
    except BoardError as error:
        context = {"testset": testset, "error": str(error), "label_sets": _current(testset)}
        return render(request, "leaderboard/leaderboard.html", context, status=error.status)
    pending = Submission.objects.visible_to(request.user).filter(testset=testset).exclude(status__in=FINISHED)
    shown = query.shown(rows)
    return render(
        request,
        "leaderboard/leaderboard.html",
        {
            "testset": testset,
            "query": query,
            "label_set": query.label_set,
            "label_sets": _current(testset),
            "versions": sorted(
                (ls for ls in testset.label_sets.all() if ls.name == query.label_set.name), key=lambda ls: -ls.version
            ),
            "shown": shown,
            "baselines": query.shown(query.baselines()),
            "beside": query.beside,
            "count": count,
            "pages": query.pages(count),
            "pending": pending.select_related("owner")[:50],
            "chart_points": cost_points(rows),
        },
    )


def _current(testset: TestSet) -> list[LabelSet]:
    return sorted((ls for ls in testset.label_sets.all() if ls.is_current), key=lambda ls: ls.pk)

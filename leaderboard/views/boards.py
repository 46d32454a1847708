"""The home page (every board with its leader) and each board: filtered, sorted, paged, exported."""

from __future__ import annotations

from django.db.models import Count
from django.http import QueryDict
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string

from leaderboard import board_cache
from leaderboard.boards import EXPORTS, ROW_FIELDS, BoardError, BoardQuery, Row
from leaderboard.charts import cost_points, label_noise_points, noise_curves
from leaderboard.columns import board_columns
from leaderboard.disclosure import board
from leaderboard.models import BoardEntry, LabelSet, Submission, TestSet
from leaderboard.models.submissions import IN_FLIGHT


def index(request):
    """Each current board (test set x label set) with its size, version, entry count and leader: one query, and
    two more when the cache (leaderboard/board_cache.py) does not hold the list for these boards' stamps."""
    label_sets = list(
        LabelSet.objects.filter(is_current=True).select_related("testset").order_by("testset__name", "pk")
    )
    key = board_cache.key("index", label_sets, QueryDict(), request.user)  # it reads no parameter
    boards = board_cache.get_or_make(key, lambda: _boards(label_sets, request.user))
    return render(request, "leaderboard/index.html", {"boards": boards})


def _boards(label_sets: list[LabelSet], user) -> str:
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
        shown = board([Row(leader)] if leader else [], columns[:1], user, label_set.name)
        group = testsets.setdefault(label_set.testset_id, {"testset": label_set.testset, "boards": []})
        group["boards"].append(
            {
                "label_set": label_set,
                "entries": counts.get(label_set.pk, 0),
                "column": columns[0] if columns else None,
                "leader": shown.rows[0] if shown.rows else None,
            }
        )
    return render_to_string("leaderboard/_boards.html", {"testsets": list(testsets.values())})


def leaderboard(request, name: str):
    """A board page: the board itself from the cache (leaderboard/board_cache.py), the queue of this user's
    view around it."""
    testset = get_object_or_404(TestSet.objects.prefetch_related("label_sets"), name=name)
    label_sets = testset.label_sets.all()  # first: the stamps the cache keys read (see board_cache)
    export = request.GET.get("format", "")
    if export:
        try:
            if export not in EXPORTS:
                raise BoardError(
                    f"format={export[:40]!r} is not an export: format=csv or format=json exports the board; "
                    "model_format= filters it by model format"
                )
            query = BoardQuery.parse(testset, request.GET, request.user)
        except BoardError as error:
            part = {"status": error.status, "error": str(error), "label_set": request.GET.get("label_set")}
        else:
            return board_cache.export_response(query, export, label_sets)
    else:
        key = board_cache.key("page", label_sets, request.GET, request.user, testset.pk)
        part = board_cache.get_or_make(key, lambda: _board_part(testset, request.GET, request.user))
    context = {
        "testset": testset,
        "label_sets": _current(testset),
        "active": part["label_set"] or "original",
        "board": part.get("html", ""),
        "error": part["error"],
    }
    if not part["error"]:
        pending = Submission.objects.visible_to(request.user).filter(testset=testset, status__in=IN_FLIGHT)
        context["pending"] = pending.select_related("owner")[:50]
    return render(request, "leaderboard/leaderboard.html", context, status=part["status"])


def _board_part(testset: TestSet, params, user) -> dict:
    """The board as this user's kind (staff or not) sees it for these parameters, rendered, or the sentence
    that says why there is none: what the cache keeps."""
    try:
        query = BoardQuery.parse(testset, params, user)
        count = query.count()
        rows = query.page_rows(count, beside_metrics=False)
    except BoardError as error:
        return {"status": error.status, "error": str(error), "label_set": params.get("label_set")}
    shown = query.shown(rows)
    context = {
        "query": query,
        "label_set": query.label_set,
        "versions": sorted(
            (ls for ls in testset.label_sets.all() if ls.name == query.label_set.name), key=lambda ls: -ls.version
        ),
        "shown": shown,
        "baselines": query.shown(query.baselines()),
        "beside": query.beside,
        "count": count,
        "pages": query.pages(count),
        "chart_points": cost_points(rows),
        "noise_points": label_noise_points(shown.rows, query.label_set.name),
        "noise_curves": noise_curves(rows, user),
    }
    html = render_to_string("leaderboard/_board.html", context)
    return {"status": 200, "error": "", "label_set": query.label_set.name, "html": html}


def _current(testset: TestSet) -> list[LabelSet]:
    return sorted((ls for ls in testset.label_sets.all() if ls.is_current), key=lambda ls: ls.pk)

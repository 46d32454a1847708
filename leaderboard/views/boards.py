"""The test-set index and each test set's leaderboards, one per label set."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from leaderboard.charts import cost_points
from leaderboard.models import Submission, TestSet
from leaderboard.models.submissions import FINISHED
from leaderboard.ranking import COLUMNS, current_label_set, leaderboard_rows


def index(request):
    testsets = TestSet.objects.prefetch_related("label_sets")
    boards = [(testset, leaderboard_rows(testset, current_label_set(testset, "original"))[:5]) for testset in testsets]
    return render(request, "leaderboard/index.html", {"boards": boards, "columns": COLUMNS["original"]})


def leaderboard(request, name: str):
    testset = get_object_or_404(TestSet, name=name)
    label_set_name = request.GET.get("label_set", "original")
    version = int(request.GET["version"]) if request.GET.get("version", "").isdigit() else None
    label_set = current_label_set(testset, label_set_name, version)
    rows = leaderboard_rows(testset, label_set)
    current = list(testset.label_sets.filter(is_current=True).order_by("id"))
    pending = Submission.objects.visible_to(request.user).filter(testset=testset).exclude(status__in=FINISHED)
    return render(
        request,
        "leaderboard/leaderboard.html",
        {
            "testset": testset,
            "rows": rows,
            "label_set": label_set,
            "label_sets": current,
            "versions": testset.label_sets.filter(name=label_set_name).order_by("-version"),
            "columns": COLUMNS.get(label_set.protocol, []) if label_set else [],
            "beside": [other for other in current if other.name != label_set_name],
            "pending": pending.select_related("owner"),
            "chart_points": cost_points(rows),
        },
    )

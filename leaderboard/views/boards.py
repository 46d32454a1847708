"""The test-set index and each test set's leaderboard."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from leaderboard.models import TestSet
from leaderboard.ranking import leaderboard_rows


def index(request):
    testsets = TestSet.objects.prefetch_related("label_sets")
    boards = [(testset, leaderboard_rows(testset)[:5]) for testset in testsets]
    return render(request, "leaderboard/index.html", {"boards": boards})


def leaderboard(request, name: str):
    testset = get_object_or_404(TestSet, name=name)
    label_set_name = request.GET.get("label_set", "original")
    rows = leaderboard_rows(testset, label_set_name)
    label_sets = sorted({label_set.name for label_set in testset.label_sets.all()})
    pending = testset.submissions.filter(hidden=False).exclude(status__in=["done", "failed", "cancelled"])
    return render(
        request,
        "leaderboard/leaderboard.html",
        {
            "testset": testset,
            "rows": rows,
            "label_set_name": label_set_name,
            "label_sets": label_sets,
            "pending": pending.select_related("owner"),
        },
    )

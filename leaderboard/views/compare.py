"""`/compare/?a=ID&b=ID` (or `?id=ID&id=ID`, as the board's ticked rows send it): two submissions side by side."""

from __future__ import annotations

from django.shortcuts import render

from leaderboard.comparing import CompareError, compare
from leaderboard.models import Submission


def compare_page(request):
    ids = request.GET.getlist("id") or [request.GET.get("a", ""), request.GET.get("b", "")]
    context = {"a": None, "b": None, "label_sets": [], "error": ""}
    try:
        if len(ids) != 2 or not all(str(pk).isascii() and str(pk).isdigit() and len(str(pk)) < 12 for pk in ids):
            raise CompareError("pick two submissions: /compare/?a=ID&b=ID, or tick two rows of a board")
        visible = Submission.objects.visible_to(request.user).select_related("testset", "owner")
        found = {submission.pk: submission for submission in visible.filter(pk__in=[int(pk) for pk in ids])}
        missing = [pk for pk in ids if int(pk) not in found]
        if missing:  # one the user may not see reads as one that does not exist (visibility.py)
            raise CompareError(f"no submission {missing[0]} to compare", 404)
        context["a"], context["b"] = found[int(ids[0])], found[int(ids[1])]
        context["label_sets"] = compare(context["a"], context["b"], request.user)
    except CompareError as error:
        context["error"] = str(error)
        return render(request, "leaderboard/compare.html", context, status=error.status)
    return render(request, "leaderboard/compare.html", context)

"""Submitting a model, following it, cancelling it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from leaderboard.forms import SubmissionForm
from leaderboard.models import InvalidTransition, Status, Submission
from leaderboard.submitting import create_submission
from plugins.errors import SubmissionError


def _visible_submission(request, pk: int) -> Submission:
    submission = get_object_or_404(Submission.objects.select_related("owner", "testset"), pk=pk)
    if submission.hidden and submission.owner != request.user and not request.user.is_staff:
        raise Http404("no such submission")
    return submission


def visible_slices(slices, user) -> tuple[list, int]:
    """The slices this user may see, and how many are withheld: small ones are for staff only."""
    if user.is_staff:
        return list(slices), 0
    shown = [item for item in slices if item.count >= settings.ZOOBOARD_MIN_SLICE]
    return shown, len(slices) - len(shown)


def detail(request, pk: int):
    submission = _visible_submission(request, pk)
    results = list(submission.results.select_related("label_set").prefetch_related("slices").order_by("label_set_id"))
    for result in results:
        result.visible_slices, result.hidden_slices = visible_slices(result.slices.all(), request.user)
    return render(
        request,
        "leaderboard/submission.html",
        {
            "submission": submission,
            "results": results,
            "min_slice": settings.ZOOBOARD_MIN_SLICE,
            "can_cancel": not submission.is_finished and (submission.owner == request.user or request.user.is_staff),
        },
    )


@login_required
def submit(request):
    form = SubmissionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            submission = create_submission(
                request.user,
                form.cleaned_data["testset"],
                form.cleaned_data["name"],
                form.model_source(),
                form.recipe_values(),
                description=form.cleaned_data["description"],
            )
        except SubmissionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{submission.name} is queued for evaluation.")
            return redirect("submission", pk=submission.pk)
    return render(request, "leaderboard/submit.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def cancel(request, pk: int):
    submission = _visible_submission(request, pk)
    if submission.owner != request.user and not request.user.is_staff:
        raise Http404("no such submission")
    try:
        submission.move_to(Status.CANCELLED)
        messages.info(request, "The submission was cancelled.")
    except InvalidTransition:
        messages.error(request, f"A {submission.status} submission cannot be cancelled.")
    return redirect("submission", pk=pk)


@login_required
def my_submissions(request):
    token, _ = Token.objects.get_or_create(user=request.user)
    submissions = request.user.submissions.select_related("testset")
    return render(request, "leaderboard/mine.html", {"submissions": submissions, "token": token.key})

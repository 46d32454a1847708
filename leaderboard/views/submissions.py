"""Submitting a model, following it, cancelling it, editing its model card."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from leaderboard import moderating, ranking
from leaderboard.charts import submission_charts
from leaderboard.columns import title_under
from leaderboard.disclosure import figures_of, metric_figures
from leaderboard.forms import ModelCardForm, SubmissionForm
from leaderboard.models import CARD_FIELDS, BoardEntry, InvalidTransition, Result, Status, Submission
from leaderboard.quotas import SubmissionRefused, in_flight_count, max_in_flight, quota_for, quotas_for
from leaderboard.submitting import create_submission
from plugins.errors import SubmissionError


def _visible_submission(request, pk: int) -> Submission:
    """404 for what this user may not see (leaderboard/models/visibility.py), as for what does not exist."""
    return get_object_or_404(Submission.objects.visible_to(request.user).select_related("owner", "testset"), pk=pk)


def detail(request, pk: int):
    submission = _visible_submission(request, pk)
    shown = figures_of(submission, request.user)  # what this user may see of each result: leaderboard/disclosure.py
    for figures in shown:
        figures.chart_data = submission_charts(figures, submission.testset.class_names or [])
        figures.chart_id = f"chart-data-{figures.result.label_set.name}"
    return render(
        request,
        "leaderboard/submission.html",
        {
            "submission": submission,
            "results": shown,
            "can_cancel": not submission.is_finished and (submission.owner == request.user or request.user.is_staff),
            "can_edit_card": submission.owner == request.user,
            "badge": _badge_links(request, submission),
            "leader": _leader(submission),
        },
    )


# the board a submission is shown by on its own page and in My submissions: its test set's current original one
ORIGINAL_BOARD = {"label_set__name": "original", "label_set__is_current": True}


def _leader(submission: Submission) -> Submission | None:
    """The leader of the submission's test set's original-label board, to compare with (None: it is the leader)."""
    leaders = BoardEntry.objects.filter(label_set__testset=submission.testset_id, position=1, **ORIGINAL_BOARD)
    entry = leaders.select_related("submission").first()
    return entry.submission if entry is not None and entry.submission_id != submission.pk else None


def _badge_links(request, submission: Submission) -> dict | None:
    """The badge's address and a Markdown line for a README, where it is on a public board (views/badges.py): a
    board stores entries of public submissions only (leaderboard/ranking.py)."""
    if not BoardEntry.objects.filter(submission=submission, **ORIGINAL_BOARD).exists():
        return None
    image = request.build_absolute_uri(reverse("submission-badge", args=[submission.pk]))
    page = request.build_absolute_uri(reverse("submission", args=[submission.pk]))
    return {"image": image, "markdown": f"[![Zooboard]({image})]({page})"}


@login_required
def submit(request):
    form = SubmissionForm(request.POST or None, request.FILES or None, initial=_resubmitting(request))
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            submission = create_submission(
                request.user,
                form.cleaned_data["testset"],
                form.cleaned_data["name"],
                form.model_source(),
                form.recipe_values(),
                card=form.card(),
            )
        except SubmissionRefused as error:
            form.add_error(None, str(error))
            refusal = error
        except SubmissionError as error:
            form.add_error(None, str(error))
        else:
            left = quota_for(request.user, submission.testset)
            messages.success(request, f"{submission.name} is queued for evaluation. {left.describe()}")
            return redirect("submission", pk=submission.pk)
    context = {
        "form": form,
        "refusal": refusal,
        "quotas": quotas_for(request.user),
        "in_flight": in_flight_count(request.user),
        "max_in_flight": max_in_flight(request.user),
    }
    response = render(request, "leaderboard/submit.html", context, status=_status(form, refusal))
    if refusal and refusal.retry_after:
        response["Retry-After"] = str(refusal.retry_after)
    return response


def _resubmitting(request) -> dict:
    """?from=ID (the user's own): the form filled in from that submission, but for the file, uploaded again."""
    pk = request.GET.get("from", "")
    earlier = Submission.objects.filter(pk=int(pk), owner=request.user).first() if pk.isdigit() else None
    if earlier is None:
        return {}
    recipe = {
        key: " ".join(str(v) for v in value) if isinstance(value, list | tuple) else value
        for key, value in (earlier.preprocessing or {}).items()
    }
    card = {field: getattr(earlier, field) for field in CARD_FIELDS}
    named = {"testset": earlier.testset.name, "name": earlier.name, "model_identifier": earlier.model_identifier}
    return {**recipe, **card, **named}


def _status(form, refusal) -> int:
    if refusal:
        return refusal.status
    return 400 if form.errors else 200


@login_required
@require_POST
def cancel(request, pk: int):
    submission = _visible_submission(request, pk)
    if submission.owner != request.user and not request.user.is_staff:
        raise Http404("no such submission")
    try:
        if submission.owner == request.user:
            submission.move_to(Status.CANCELLED)
        else:  # staff cancelling someone else's evaluation: a moderation action, audited
            moderating.cancel(submission, request.user)
        messages.info(request, "The submission was cancelled.")
    except InvalidTransition:
        messages.error(request, f"A {submission.status} submission cannot be cancelled.")
    return redirect("submission", pk=pk)


@login_required
def my_submissions(request):
    """Each of the user's submissions with its status, its headline and rank on the test set's current original
    board (where it is ranked), and what its owner may do: withdraw it from the boards or restore it, resubmit."""
    submissions = list(request.user.submissions.select_related("testset"))
    entries = {
        entry.submission_id: entry
        for entry in BoardEntry.objects.filter(submission__in=submissions, **ORIGINAL_BOARD).only(
            "submission_id", "position"
        )
    }
    headlines = {
        result.submission_id: result
        for result in Result.objects.filter(submission__in=submissions, **ORIGINAL_BOARD)
        .select_related("label_set")
        .only("submission_id", "headline", "headline_metric", "metrics", "counts", "label_set__protocol")
    }
    rows = [
        {
            "submission": submission,
            "entry": entries.get(submission.pk),
            "headline": _headline(headlines.get(submission.pk), request.user),
        }
        for submission in submissions
    ]
    return render(request, "leaderboard/mine.html", {"rows": rows})


def _headline(result, user) -> dict | None:
    """The result's headline as this user may see it (leaderboard/disclosure.py), or None."""
    if result is None:
        return None
    figures = metric_figures(result, user, curves=False)
    value = figures.metrics.get(result.headline_metric)
    if value is None:
        return None
    title = title_under(result.label_set.protocol, result.headline_metric)
    return {"metric": result.headline_metric, "title": title, "value": value}


@login_required
@require_POST
def withdraw(request, pk: int):
    """The owner takes a submission off the public boards (or puts it back): it stays theirs, and visible to them."""
    submission = get_object_or_404(Submission, pk=pk, owner=request.user)
    restore = request.POST.get("restore") == "1"
    with transaction.atomic():
        changed = Submission.objects.filter(pk=pk, withdrawn_at__isnull=not restore).update(
            withdrawn_at=None if restore else timezone.now()
        )
        if changed:
            ranking.submission_changed(submission)
    if restore:
        messages.info(request, f"{submission.name} is back on the boards it qualifies for.")
    else:
        messages.info(request, f"{submission.name} is withdrawn from the public boards; you can restore it here.")
    return redirect("my-submissions")


@login_required
def edit_card(request, pk: int):
    """The owner edits the model card; the boards that show the submission are stamped afresh (their cached pages
    show its architecture and links). Anyone else: 404, as for a submission they may not see."""
    submission = get_object_or_404(Submission, pk=pk, owner=request.user)
    form = ModelCardForm(request.POST or None, instance=submission)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            ranking.restamp(submission.results.values_list("label_set_id", flat=True))
        messages.success(request, "The model card is saved.")
        return redirect(reverse("submission", args=[submission.pk]) + "#card")
    status = 400 if form.errors else 200
    return render(request, "leaderboard/card.html", {"form": form, "submission": submission}, status=status)

"""A submission's badge for READMEs: `/submissions/ID/badge.svg`, "Zooboard | rank #N · Top-1 81.03%", drawn by
anybadge (shields.io's look, text widths measured). Only for an entry on a public board: anything else (hidden,
unapproved, not done, unknown) is a 404 whoever asks, so that a badge never tells what the board does not."""

from __future__ import annotations

import anybadge
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404

from leaderboard import board_cache
from leaderboard.boards import ROW_FIELDS, BoardError, Row, label_set_for
from leaderboard.columns import board_columns
from leaderboard.disclosure import board
from leaderboard.models import BoardEntry, Submission
from leaderboard.templatetags.zooboard import metric

COLOUR = "#2457c5"  # the site's accent (static/zooboard/site.css: --accent)
MAX_AGE = 300  # seconds a README's image proxy (GitHub's camo) may keep it


def badge(request, pk: int):
    public = AnonymousUser()  # a badge is what the public sees, whoever fetches it
    submission = get_object_or_404(Submission.objects.visible_to(public).select_related("testset"), pk=pk)
    try:
        label_set = label_set_for(submission.testset, request.GET.get("label_set") or "original", None)
    except BoardError as error:
        raise Http404(str(error)) from None
    key = board_cache.key("badge", [label_set], QueryDict(), public, submission.pk)
    svg = board_cache.get_or_make(key, lambda: _svg(submission, label_set))
    if not svg:
        raise Http404("this submission has no entry on that board")
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def _svg(submission: Submission, label_set) -> str:
    """The badge, or "" where the submission has no entry on the board (kept in the cache all the same)."""
    entry = (
        BoardEntry.objects.filter(submission=submission, label_set=label_set)
        .select_related("result", "submission__owner")
        .only(*ROW_FIELDS)
        .first()
    )
    if entry is None:
        return ""
    columns = board_columns(label_set.protocol)[:1]  # the headline
    text = f"rank #{entry.position}"
    shown = board([Row(entry)], columns, AnonymousUser(), label_set.name).rows[0]
    if columns and columns[0].metric in shown.figures.metrics:
        column = columns[0]
        text += f" · {column.title} {metric(shown.figures.metrics[column.metric], column.metric)}"
    if label_set.name != "original":
        text += f" ({label_set.title or label_set.name})"
    return anybadge.Badge("Zooboard", text, default_color=COLOUR).badge_svg_text

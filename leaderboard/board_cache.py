"""Boards as served, kept in Django's cache (CACHES["boards"]: Redis in production, the process's memory in the
demo): a page, an API page, an export or the home page's list is computed once per state of the boards it
shows, then read from the cache until that state changes.

What a board shows depends on its stored ranking and on the test set's other label sets (their headlines are
shown beside), on the request's parameters and on whether the reader is staff (leaderboard/disclosure.py), and
on nothing else about the reader. The key names all of it: every label set of the test set by its board_stamp,
which leaderboard/ranking.py draws afresh inside the transaction that re-ranks the board (signals.py too, when
an owner's name changes). A change makes new keys rather than deleting old ones: there is nothing to find and
invalidate, no window in which a stale page is served, and old pages age out (TIMEOUT, or the cache's own
eviction). Whole-board exports are also made ahead, by a worker, once a re-ranking commits (make_exports), so
that no download of a big board waits for it to be made. The stamps come with the test set's label sets, which
the views read first anyway, so a hit costs no query of its own; reading them first also means that a page
computed while a re-ranking commits is kept under the stamps it read, which no later reader asks for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.http import QueryDict, StreamingHttpResponse

from leaderboard.boards import EXPORTS, FILTERS, BoardQuery
from leaderboard.disclosure import minimum, sees_everything
from leaderboard.models import TestSet

TIMEOUT = 600  # seconds: a page outlives no deploy (new plugin columns) by more than this
# an export made ahead lives this long, and is kept alive while its board is unchanged by the periodic
# housekeeping's make_exports (hourly by default); its key names the board's columns, so a deploy that changes
# them makes new keys
AHEAD_TIMEOUT = 24 * 3600
PIECE = 64 * 1024  # a cached export is sent in pieces of this many characters

T = TypeVar("T")

# what a board reads from a request (leaderboard/boards.py), but the export format, which `kind` says
PARAMETERS = ("label_set", "version", "sort", "order", "page", "per_page", *FILTERS)


def _cache():
    return caches["boards"]


def key(kind: str, label_sets: Iterable, params, user, *extra) -> str:
    """The key of what `kind` shows for these parameters (a QueryDict) to this user, given the boards' stamps.
    label_sets: every label set whose board the answer reads (a test set's, for a board page). Parameters a
    board does not read are left out, so that junk in a URL neither misses the cache nor fills it."""
    stamps = sorted((ls.pk, ls.board_stamp.hex) for ls in label_sets)
    items = sorted((name, params.getlist(name)) for name in PARAMETERS if name in params)
    text = json.dumps([kind, stamps, sees_everything(user), minimum(), items, *extra], default=str)
    return f"board:{kind}:{hashlib.sha256(text.encode()).hexdigest()}"


def get_or_make(key: str, make: Callable[[], T]) -> T:
    value = _cache().get(key)
    if value is None:
        value = make()
        _cache().set(key, value, TIMEOUT)
    return value


def stream(key: str, make: Callable[[], Iterator[str]]) -> Iterator[str]:
    """An export, from the cache when it is there; else streamed as it is made and kept once it is whole (a
    download abandoned half way keeps nothing)."""
    whole = _cache().get(key)
    if whole is not None:
        for start in range(0, len(whole), PIECE):
            yield whole[start : start + PIECE]
        return
    made = []
    for piece in make():
        made.append(piece)
        yield piece
    _cache().set(key, "".join(made), TIMEOUT)


def export_key(query: BoardQuery, export: str, label_sets) -> str:
    """The key of a whole board's export in board order, however the request named that board."""
    board = QueryDict(mutable=True)
    board.update({"label_set": query.label_set.name, "version": str(query.label_set.version)})
    columns = [column.metric for column in query.columns]
    return key(export, label_sets, board, query.user, query.testset.pk, columns)


def _lines(query: BoardQuery, export: str) -> Callable[[], Iterator[str]]:
    return query.csv_lines if export == "csv" else query.json_chunks


def export_response(query: BoardQuery, export: str, label_sets) -> StreamingHttpResponse:
    """Every row of the filtered, sorted board, streamed as CSV or JSON, as this user may see them. The whole
    board in its own order (what most downloads are) is kept in the cache once sent whole (label_sets: the test
    set's, read first), when a worker has not made it ahead already (make_exports); other views are made each
    time, so that a thousand filters cannot fill the cache with a copy of the board each."""
    name = f"{query.testset.name}-{query.label_set.name}-v{query.label_set.version}.{export}"
    content_type = "text/csv; charset=utf-8" if export == "csv" else "application/json"
    if query.in_board_order:
        body = stream(export_key(query, export, label_sets), _lines(query, export))
    else:
        body = _lines(query, export)()
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def make_exports(testset_id: int) -> int:
    """Makes the whole-board exports of each current board of the test set, as the public sees them, and keeps
    them in the cache under the keys a download asks for (run by a worker once a re-ranking commits, and by the
    periodic housekeeping); an export already there is kept alive instead. How many were made.

    A re-ranking that commits while this runs leaves what it made under the old stamps, which no download asks
    for: the re-ranking sends its own run, which makes them again."""
    testset = TestSet.objects.prefetch_related("label_sets").filter(pk=testset_id).first()
    if testset is None:
        return 0
    label_sets = testset.label_sets.all()  # first: the stamps the keys read
    made = 0
    for label_set in sorted((ls for ls in label_sets if ls.is_current), key=lambda ls: ls.pk):
        params = QueryDict(mutable=True)
        params["label_set"] = label_set.name
        query = BoardQuery.parse(testset, params, AnonymousUser())
        for export in EXPORTS:
            made_key = export_key(query, export, label_sets)
            if _cache().touch(made_key, AHEAD_TIMEOUT):
                continue
            _cache().set(made_key, "".join(_lines(query, export)()), AHEAD_TIMEOUT)
            made += 1
    return made

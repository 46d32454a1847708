"""Boards at scale: stored rankings (positions, interval-aware ranks, ties), sorting, filtering, paging and
exports on the page and the API, a constant number of queries whatever a board's size, and rankings that
follow a re-score, a hide and a new label-set version. Expected orders are computed here from the numbers
the entries were made with, never from what the server stored."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leaderboard import moderating, queue, ranking
from leaderboard.board_cache import make_exports
from leaderboard.models import BoardEntry, LabelSet, Result, Status, Submission

ARCHITECTURES = ("resnet", "efficientnet", "vit")


def make_entry(testset, owner, name, *, top1, nll, clean=None, low=None, high=None, **fields):
    """A done submission whose original-label result has these numbers (and a clean-label one if given),
    stored as a worker stores results: Result.objects.store, then DONE."""
    low = top1 - 0.01 if low is None else low
    high = top1 + 0.01 if high is None else high
    submission = Submission.objects.create(owner=owner, testset=testset, name=name, preprocessing={}, **fields)
    submission.move_to(Status.RUNNING)
    submission.move_to(Status.SCORING)
    scores = {"original": score("original", "top1", {"top1": top1, "top5": min(1.0, top1 + 0.1), "nll": nll})}
    scores["original"]["intervals"]["top1"] = [low, high]
    if clean is not None:
        scores["clean"] = score("clean", "top1", {"top1": clean, "top5": min(1.0, clean + 0.1)})
    Result.objects.store(submission, scores)
    submission.move_to(Status.DONE)
    return submission


def score(protocol, headline, metrics, correct=None, per_example=None):
    return {
        "version": 1,
        "protocol": protocol,
        "headline": headline,
        "metrics": metrics,
        "intervals": {headline: [metrics[headline] - 0.01, metrics[headline] + 0.01]},
        "counts": {"scored": 10_000},
        "summaries": {},
        "curves": {},
        "correct": correct,
        "per_example": per_example,
        "slices": {},
    }


@pytest.fixture
def board(cifar10, alice, bob):
    """30 entries of made-up but distinct numbers; returns {name: the numbers it was made with}."""
    rng = random.Random(11)
    made = {}
    with ranking.deferred():
        for index in range(30):
            owner = alice if index % 3 else bob
            numbers = {
                "top1": round(rng.uniform(0.5, 0.95), 4),
                "nll": round(rng.uniform(0.2, 1.5), 4),
                "clean": round(rng.uniform(0.5, 0.95), 4),
                "params": rng.randrange(100_000, 90_000_000),
                "arch": ARCHITECTURES[index % 3],
                "format": "onnx" if index % 2 else "timm",
                "owner": owner.username,
                "finished": datetime(2026, 11, 1 + index % 28, tzinfo=UTC),
            }
            name = f"model-{index:02d}" + (" wide" if index % 5 == 0 else "")
            submission = make_entry(
                cifar10,
                owner,
                name,
                top1=numbers["top1"],
                nll=numbers["nll"],
                clean=numbers["clean"],
                architecture=numbers["arch"],
                model_format=numbers["format"],
                efficiency={"parameters": numbers["params"], "throughput": rng.uniform(10, 1000)},
            )
            Submission.objects.filter(pk=submission.pk).update(finished_at=numbers["finished"])
            made[name] = numbers
    ranking.refresh_all()  # finished_at was set after the results: re-rank as an import would
    return made


def api_rows(client, query="", **params):
    response = client.get(f"/api/testsets/cifar10/leaderboard/?{query}", params)
    assert response.status_code == 200, response.content
    return response.json()


def names(rows):
    return [row["name"] for row in rows]


# -- sorting ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "order", "key", "reverse"),
    [
        ("top1", None, "top1", True),  # an accuracy: descending by default
        ("top1", "asc", "top1", False),
        ("nll", None, "nll", False),  # a loss: ascending by default
        ("nll", "desc", "nll", True),
        ("clean", None, "clean", True),  # another label set's headline, beside
        ("params", None, "params", False),
    ],
)
def test_sorting_by_a_column_in_either_direction(board, client, sort, order, key, reverse):
    params = {"sort": sort, "per_page": 200, **({"order": order} if order else {})}
    expected = sorted(board, key=lambda name: board[name][key], reverse=reverse)
    assert names(api_rows(client, **params)["rows"]) == expected
    page = client.get("/testsets/cifar10/", params).content.decode()
    positions = [page.index(f">{name}</a>") for name in expected]
    assert positions == sorted(positions)


def test_the_rank_is_the_headline_order_whatever_the_sort(board, client):
    by_top1 = sorted(board, key=lambda name: -board[name]["top1"])
    rows = api_rows(client, sort="nll", per_page=200)["rows"]
    assert {row["name"]: row["rank"] for row in rows} == {name: i + 1 for i, name in enumerate(by_top1)}


# -- filters ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"model_format": "onnx"}, lambda n, v: v["format"] == "onnx"),
        ({"arch": "vit"}, lambda n, v: v["arch"] == "vit"),
        ({"arch": "ResNet"}, lambda n, v: v["arch"] == "resnet"),
        ({"params_min": 20_000_000}, lambda n, v: v["params"] >= 20_000_000),
        ({"params_max": 20_000_000}, lambda n, v: v["params"] <= 20_000_000),
        ({"params_min": 5_000_000, "params_max": 50_000_000}, lambda n, v: 5_000_000 <= v["params"] <= 50_000_000),
        ({"owner": "bob"}, lambda n, v: v["owner"] == "bob"),
        ({"since": "2026-11-10"}, lambda n, v: v["finished"].date().isoformat() >= "2026-11-10"),
        ({"until": "2026-11-10"}, lambda n, v: v["finished"].date().isoformat() <= "2026-11-10"),
        ({"q": "WIDE"}, lambda n, v: "wide" in n),
        ({"owner": "alice", "arch": "vit"}, lambda n, v: v["owner"] == "alice" and v["arch"] == "vit"),
    ],
)
def test_each_filter_keeps_exactly_the_matching_entries(board, client, params, keep):
    expected = sorted((name for name, numbers in board.items() if keep(name, numbers)), key=lambda n: -board[n]["top1"])
    assert expected, "the filter should match something"
    body = api_rows(client, per_page=200, **params)
    assert names(body["rows"]) == expected and body["count"] == len(expected)
    page = client.get("/testsets/cifar10/", {**params, "per_page": 200}).content.decode()
    assert sorted(name for name in board if f">{name}</a>" in page) == sorted(expected)


@pytest.mark.parametrize(
    ("query", "status", "sentence"),
    [
        ("label_set=typo", 404, "cifar10 has no label set named 'typo' (its label sets: clean, human, original"),
        ("label_set=clean&version=7", 404, "cifar10 has no version 7 of 'clean' (versions: 1)"),
        ("sort=accuracy", 400, "cannot sort by 'accuracy': this board sorts by top1, top5, ece, nll, clean"),
        ("order=up", 400, "order must be asc or desc, not 'up'"),
        ("model_format=tflite", 400, "no model format is named 'tflite' (formats: onnx, timm)"),
        ("owner=nobody", 400, "no entry on cifar10 is by 'nobody'"),
        ("arch=lenet", 400, "no entry on cifar10 is of architecture 'lenet' (efficientnet, resnet, vit)"),
        ("params_min=nan", 400, "params_min='nan': Enter a number."),
        ("params_min=9&params_max=1", 400, "params_min=9.0 is beyond params_max=1.0: nothing can match"),
        ("since=yesterday", 400, "since='yesterday': Enter a valid date."),
        ("page=0", 400, "page must be a whole number of at least 1, not '0'"),
        ("page=2", 404, "page 2 is past the last page, 1"),
        ("per_page=201", 400, "per_page must be a whole number from 1 to 200, not '201'"),
        ("format=onnx", 400, "format='onnx' is not an export: format=csv or format=json exports the board"),
    ],
)
def test_what_names_nothing_is_an_error_with_a_sentence(board, client, query, status, sentence):
    if query == "page=2":
        query = "page=2&per_page=200"
    response = client.get(f"/api/testsets/cifar10/leaderboard/?{query}")
    assert response.status_code == status and sentence in response.json()["error"]
    page = client.get(f"/testsets/cifar10/?{query}")
    assert page.status_code == status and sentence.replace("'", "&#x27;") in page.content.decode()


# -- paging and exports -------------------------------------------------------------------------------------


def test_pages_cover_the_filtered_board_once(board, client):
    whole = names(api_rows(client, sort="nll", owner="alice", per_page=200)["rows"])
    paged, page = [], 1
    while True:
        body = api_rows(client, sort="nll", owner="alice", per_page=7, page=page)
        paged += names(body["rows"])
        if body["next"] is None:
            break
        assert "page=" + str(page + 1) in body["next"] and "owner=alice" in body["next"]
        page += 1
    assert paged == whole and page == body["pages"] == -(-len(whole) // 7)
    assert api_rows(client)["per_page"] == 50


@pytest.mark.parametrize("where", ["/testsets/cifar10/", "/api/testsets/cifar10/leaderboard/"])
def test_both_exports_hold_every_row_shown_on_the_pages(board, client, where):
    params = {"sort": "clean", "arch": "resnet"}
    shown = []
    for page in (1, 2, 3):
        body = api_rows(client, per_page=4, page=page, **params)
        shown += body["rows"]
    assert len(shown) == body["count"] == 10

    exported = list(csv.DictReader(io.StringIO(streamed(client, where, format="csv", **params))))
    assert [row["name"] for row in exported] == names(shown)
    for row, page_row in zip(exported, shown, strict=True):
        assert int(row["rank"]) == page_row["rank"] and int(row["interval_rank"]) == page_row["interval_rank"]
        assert float(row["top1"]) == page_row["metrics"]["top1"] == board[row["name"]]["top1"]
        assert float(row["top1_low"]) == pytest.approx(board[row["name"]]["top1"] - 0.01)
        assert float(row["clean.top1"]) == board[row["name"]]["clean"]
        assert int(row["parameters"]) == board[row["name"]]["params"]

    exported = json.loads(streamed(client, where, format="json", **params))
    assert exported["rows"] == shown and exported["count"] == 10 and exported["sort"] == "clean"


def streamed(client, where, **params) -> str:
    response = client.get(where, params)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="cifar10-original-v1.')
    return b"".join(response.streaming_content).decode()


# -- ranks and ties -----------------------------------------------------------------------------------------


def test_interval_ranks_match_a_pairwise_count(cifar10, alice, client):
    rng = np.random.default_rng(5)
    made = {}
    with ranking.deferred():
        for index in range(60):
            top1 = float(rng.uniform(0.6, 0.9))
            low, high = top1 - float(rng.uniform(0, 0.05)), top1 + float(rng.uniform(0, 0.05))
            if index % 10 == 0:  # some share their bounds exactly: equal bounds are not "wholly above"
                low, high = 0.7, 0.8
            make_entry(cifar10, alice, f"m{index}", top1=top1, nll=0.5, low=low, high=high)
            made[f"m{index}"] = (low, high)
    rows = api_rows(client, per_page=200)["rows"]
    for row in rows:
        low, high = made[row["name"]]
        above = sum(other_low > high for other, (other_low, _) in made.items() if other != row["name"])
        assert row["interval_rank"] == 1 + above
    assert len({row["interval_rank"] for row in rows}) < len(rows)  # some share a rank


def test_identical_human_agreement_is_a_tie_and_a_clear_gap_is_not(cifar10, alice, client):
    """The human-label board (no top-1 bits) ties its neighbours by a paired t-test on per-example agreement."""
    rng = np.random.default_rng(3)
    shared = rng.uniform(0, 1, 10_000)
    for name, values in (("Same A", shared), ("Same B", shared.copy()), ("Worse", np.clip(shared - 0.2, 0, 1))):
        submission = Submission.objects.create(owner=alice, testset=cifar10, name=name, preprocessing={})
        submission.move_to(Status.RUNNING)
        submission.move_to(Status.SCORING)
        metrics = {"human_agreement": float(values.mean()), "cross_entropy": 1.0}
        Result.objects.store(submission, {"human": score("soft", "human_agreement", metrics, per_example=values)})
        submission.move_to(Status.DONE)
    rows = api_rows(client, label_set="human")["rows"]
    assert names(rows)[2] == "Worse"
    assert rows[0]["tied_with_next"] and rows[0]["tie_test"] == "paired-t" and rows[0]["p_value_next"] == 1.0
    assert not rows[1]["tied_with_next"] and rows[1]["p_value_next"] < 1e-10
    assert rows[2]["tie_test"] is None
    page = client.get("/testsets/cifar10/?label_set=human").content.decode()
    assert "statistically tied with the next entry (paired t-test, p = 1.000)" in page


def test_without_per_example_data_overlapping_intervals_are_a_tie(cifar10, alice, client):
    make_entry(cifar10, alice, "A", top1=0.80, nll=0.5, low=0.79, high=0.81)
    make_entry(cifar10, alice, "B", top1=0.795, nll=0.5, low=0.785, high=0.805)
    make_entry(cifar10, alice, "C", top1=0.70, nll=0.5, low=0.69, high=0.71)
    rows = api_rows(client)["rows"]
    assert [(row["tie_test"], row["tied_with_next"]) for row in rows] == [
        ("intervals", True),
        ("intervals", False),
        (None, False),
    ]
    assert [row["interval_rank"] for row in rows] == [1, 1, 3]


# -- rankings follow changes ----------------------------------------------------------------------------------


def test_rankings_follow_a_rescore_a_hide_and_a_show(cifar10, alice, staff, client):
    first = make_entry(cifar10, alice, "First", top1=0.9, nll=0.5)
    second = make_entry(cifar10, alice, "Second", top1=0.8, nll=0.5)
    third = make_entry(cifar10, alice, "Third", top1=0.7, nll=0.5)
    assert names(api_rows(client)["rows"]) == ["First", "Second", "Third"]

    Result.objects.store(third, {"original": score("original", "top1", {"top1": 0.95, "top5": 1.0, "nll": 0.1})})
    rows = api_rows(client)["rows"]
    assert names(rows) == ["Third", "First", "Second"] and [row["rank"] for row in rows] == [1, 2, 3]

    moderating.hide(first, staff, "a test")
    rows = api_rows(client)["rows"]
    assert names(rows) == ["Third", "Second"] and [row["rank"] for row in rows] == [1, 2]
    assert BoardEntry.objects.filter(submission=first).count() == 0

    moderating.unhide(first, staff)
    assert names(api_rows(client)["rows"]) == ["Third", "First", "Second"]
    moderating.ban(alice, staff, "spam")
    assert api_rows(client)["rows"] == []
    moderating.unban(alice, staff)
    assert api_rows(client)["count"] == 3
    second.refresh_from_db()
    moderating.rerun(second, staff)
    assert names(api_rows(client)["rows"]) == ["Third", "First"]


def test_a_deferred_block_ranks_its_results_once_at_its_end(cifar10, alice, client):
    with ranking.deferred():
        make_entry(cifar10, alice, "Late", top1=0.6, nll=0.5)
        make_entry(cifar10, alice, "Early", top1=0.9, nll=0.5)
        assert not BoardEntry.objects.exists()  # deferred: nothing ranked yet
    assert [(row["name"], row["rank"]) for row in api_rows(client)["rows"]] == [("Early", 1), ("Late", 2)]


# -- the home page, baselines, and constant queries -------------------------------------------------------------


def test_the_home_page_shows_each_board_with_its_leader(board, client):
    page = client.get("/").content.decode()
    leader = max(board, key=lambda name: board[name]["top1"])
    clean_leader = max(board, key=lambda name: board[name]["clean"])
    original = page[page.index('class="board-original"') :]
    assert '<td class="num entries">30</td>' in original[:600] and f">{leader}</a>" in original[:600]
    clean = page[page.index('class="board-clean"') :]
    assert f">{clean_leader}</a>" in clean[:600] and "v1" in clean[:600]
    assert '<td class="num entries">0</td>' in page[page.index('class="board-human"') :][:600]


def test_baselines_are_marked_and_pinned_above_every_page(board, client, staff):
    weakest = min(board, key=lambda name: board[name]["top1"])
    moderating.mark_baseline(Submission.objects.get(name=weakest), staff, "a standard ResNet")
    body = api_rows(client, per_page=5, owner="bob" if board[weakest]["owner"] == "alice" else "alice")
    assert names(body["baselines"]) == [weakest] and weakest not in names(body["rows"])
    assert body["baselines"][0]["baseline"] is True
    page = client.get("/testsets/cifar10/", {"per_page": 5}).content.decode()
    pinned = page[page.index('<tbody class="pinned">') : page.index("</tbody>")]
    assert f">{weakest}</a>" in pinned and "baseline</span>" in pinned


PAGES = [
    "/",
    "/testsets/cifar10/",
    "/testsets/cifar10/?label_set=clean&sort=top5&order=asc",
    "/testsets/cifar10/?sort=nll&q=model&owner=alice&arch=resnet&params_min=1&page=1",
    "/testsets/cifar10/?sort=clean&per_page=200",
    "/api/testsets/cifar10/leaderboard/",
    "/api/testsets/cifar10/leaderboard/?sort=params&model_format=onnx&since=2020-01-01&per_page=200",
    "/testsets/cifar10/?format=csv",
    "/api/testsets/cifar10/leaderboard/?format=json",
]


def queries(client, path, cached: bool = False) -> int:
    """The queries of one request: made afresh (the board cache emptied first), or served from the cache (the
    same request made just before, uncounted)."""
    caches["boards"].clear()
    if cached:
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)  # an export is kept once sent whole
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
        assert response.status_code == 200, path
        if response.streaming:
            b"".join(response.streaming_content)
    per_example = [q["sql"] for q in captured if "correct_bits" in q["sql"] or "per_example" in q["sql"]]
    assert not per_example, f"{path} read per-example data: {per_example[0][:300]}"
    return len(captured)


def test_each_page_costs_the_same_queries_at_10_and_500_entries(cifar10, alice, bob, staff, client):
    def add(count, start):
        with ranking.deferred():
            for index in range(start, start + count):
                make_entry(
                    cifar10,
                    alice if index % 2 else bob,
                    f"model {index}",
                    top1=0.5 + index / 2000,
                    nll=1 - index / 2000,
                    clean=0.6,
                    architecture="resnet",
                    model_format="onnx",
                    efficiency={"parameters": 1000 + index},
                    is_baseline=index < 2,
                )

    add(10, 0)
    for path in PAGES:  # warm: what a process looks up once (content types, plugins) is not per page
        queries(client, path)
    small = {path: queries(client, path) for path in PAGES}
    small_cached = {path: queries(client, path, cached=True) for path in PAGES}
    add(490, 10)
    assert BoardEntry.objects.filter(label_set__name="original").count() == 500
    assert {path: queries(client, path) for path in PAGES} == small
    assert {path: queries(client, path, cached=True) for path in PAGES} == small_cached
    # served from the cache, a board costs its test set and its label sets (two queries), the home page its
    # label sets; the rest of the queries are the page's own (the queue, the session, the token)
    assert [path for path in PAGES if small_cached[path] >= small[path]] == [], small_cached
    assert small_cached["/"] == 1
    client.force_login(staff)
    assert queries(client, "/testsets/cifar10/?sort=ece") == queries(client, "/testsets/cifar10/?sort=ece&page=3")


def test_the_stored_pair_tests_are_only_recomputed_for_changed_pairs(cifar10, alice, monkeypatch):
    for index in range(20):
        make_entry(cifar10, alice, f"m{index}", top1=0.5 + index / 100, nll=0.5)
    tested = []
    real = ranking._test_pair
    monkeypatch.setattr(ranking, "_test_pair", lambda entry, row, *args: tested.append(row) or real(entry, row, *args))
    make_entry(cifar10, alice, "new", top1=0.555, nll=0.5)
    # the new entry's own pair and its new predecessor's (both of whose neighbours changed), on the original
    # board; no other board has a result of it
    assert len(tested) == 2
    entry = BoardEntry.objects.get(submission__name="new")
    assert entry.position == 15 and entry.next_result.submission.name == "m5"


def test_of_equal_scores_the_earlier_finished_ranks_first(cifar10, alice, client):
    later = make_entry(cifar10, alice, "Later", top1=0.8, nll=0.5)
    earlier = make_entry(cifar10, alice, "Earlier", top1=0.8, nll=0.5)
    Submission.objects.filter(pk=earlier.pk).update(finished_at=later.finished_at - timedelta(days=7))
    ranking.submission_changed(earlier)
    assert names(api_rows(client)["rows"]) == ["Earlier", "Later"]


def test_the_architecture_family_comes_from_the_submitter_or_the_format(cifar10, alice, api_as, model_path):
    from plugins.formats.timm_format import _family

    assert (_family("resnet18"), _family("efficientnet_lite0"), _family("vit_tiny_patch16_224")) == (
        "resnet",
        "efficientnet",
        "vision_transformer",
    )
    with open(model_path("resnet20"), "rb") as handle:
        response = api_as(alice).post(
            "/api/submissions/", {"testset": "cifar10", "model_file": handle, "architecture": "resnet"}
        )
    assert response.status_code == 201, response.content
    assert Submission.objects.get(pk=response.json()["id"]).architecture == "resnet"


def test_a_column_shown_to_staff_only_cannot_be_sorted_by_others(cifar10, alice, charlie, staff, client):
    """The clean board's correctable columns are over 18 images: their order would give them away."""
    for name, value in (("A", 0.5), ("B", 0.9)):
        submission = Submission.objects.create(owner=alice, testset=cifar10, name=name, preprocessing={})
        submission.move_to(Status.RUNNING)
        submission.move_to(Status.SCORING)
        metrics = {"top1": 0.8, "top5": 0.9, "correctable_top1_original": value}
        stored = score("clean", "top1", metrics)
        stored["counts"] = {"scored": 9_964, "correctable_top1_original": 18}
        Result.objects.store(submission, {"clean": stored})
        submission.move_to(Status.DONE)
    query = "/api/testsets/cifar10/leaderboard/?label_set=clean&sort=correctable_top1_original"
    client.force_login(charlie)
    response = client.get(query)
    assert response.status_code == 400
    assert response.json()["error"] == (
        "cannot sort by correctable_top1_original: its figures are over fewer than 25 images: shown to staff only"
    )
    client.force_login(staff)
    assert names(client.get(query).json()["rows"]) == ["B", "A"]


# -- what the review found ------------------------------------------------------------------------------------


def test_a_figure_withheld_in_any_entry_cannot_be_sorted_by(cifar10, alice, charlie, client):
    """Results stored before their counts were recorded withhold their figures: sorting the others by it would
    still order the withheld ones."""
    make_entry(cifar10, alice, "Counted", top1=0.9, nll=0.5)
    old = make_entry(cifar10, alice, "Uncounted", top1=0.8, nll=0.4)
    Result.objects.filter(submission=old).update(counts={})
    ranking.refresh_all()  # as after an upgrade (`manage.py rank`): the boards learn what their results hold
    client.force_login(charlie)
    response = client.get("/api/testsets/cifar10/leaderboard/?sort=nll")
    assert response.status_code == 400
    assert response.json()["error"].startswith("cannot sort by nll: its figures are over how many images")


def test_the_board_follows_a_ban_saved_directly_and_a_deleted_user(
    cifar10, alice, bob, staff, client, django_capture_on_commit_callbacks
):
    """Signals re-rank after the commit; the test's transaction never commits, so its callbacks run here."""
    from leaderboard.models import Ban

    def django_capture_on_commit():
        return django_capture_on_commit_callbacks(execute=True)

    with django_capture_on_commit():
        make_entry(cifar10, alice, "Alice's", top1=0.9, nll=0.5)
        make_entry(cifar10, bob, "Bob's", top1=0.8, nll=0.5)
    with django_capture_on_commit():
        ban = Ban.objects.create(user=alice, reason="from a shell", banned_by=staff)
    assert [(row["name"], row["rank"]) for row in api_rows(client)["rows"]] == [("Bob's", 1)]
    with django_capture_on_commit():
        ban.delete()
    assert names(api_rows(client)["rows"]) == ["Alice's", "Bob's"]
    with django_capture_on_commit():
        alice.delete()
    assert [(row["name"], row["rank"], row["tie_test"]) for row in api_rows(client)["rows"]] == [("Bob's", 1, None)]


def test_a_failed_deferred_block_still_ranks_what_it_stored(cifar10, alice, client):
    with pytest.raises(RuntimeError), ranking.deferred():
        make_entry(cifar10, alice, "Stored before the failure", top1=0.9, nll=0.5)
        raise RuntimeError("the worker broke half way")
    assert names(api_rows(client)["rows"]) == ["Stored before the failure"]


def test_csv_by_accept_header_and_odd_digits(board, client):
    response = client.get("/api/testsets/cifar10/leaderboard/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert len(b"".join(response.streaming_content).decode().splitlines()) == 31
    for query in ("page=%C2%B2", "version=%C2%B2", "per_page=%D9%A3"):  # superscript two, Arabic-Indic three
        assert client.get(f"/api/testsets/cifar10/leaderboard/?{query}").status_code == 400
        assert client.get(f"/testsets/cifar10/?{query}").status_code == 400


def test_exported_names_cannot_start_a_spreadsheet_formula(cifar10, alice, client):
    make_entry(cifar10, alice, '=HYPERLINK("http://example.invalid","x")', top1=0.9, nll=0.5, architecture="+1")
    exported = list(csv.DictReader(io.StringIO(streamed(client, "/testsets/cifar10/", format="csv"))))
    assert exported[0]["name"] == '\'=HYPERLINK("http://example.invalid","x")' and exported[0]["architecture"] == "'+1"


def test_the_owner_filter_does_not_tell_which_accounts_exist(board, client, staff):
    response = client.get("/api/testsets/cifar10/leaderboard/?owner=staff")  # an account with no entry
    assert response.status_code == 400 and response.json()["error"] == "no entry on cifar10 is by 'staff'"


def test_a_withheld_headline_withholds_its_paired_test(cifar10, alice, charlie, staff, client):
    for name, top1 in (("A", 0.5), ("B", 0.5)):
        submission = make_entry(cifar10, alice, name, top1=top1, nll=0.5)
        Result.objects.filter(submission=submission).update(counts={"scored": 20})
    ranking.refresh_all()
    client.force_login(charlie)
    first = api_rows(client)["rows"][0]
    assert (first["p_value_next"], first["tied_with_next"], first["tie_test"]) == (None, False, None)
    client.force_login(staff)
    assert api_rows(client)["rows"][0]["tie_test"] == "intervals"


@pytest.mark.parametrize("lower_is_better", [False, True])
def test_interval_ranks_in_either_direction_match_a_pairwise_count(lower_is_better):
    rng = np.random.default_rng(7)
    rows = []
    for index in range(200):
        centre = float(rng.uniform(0, 1))
        low, high = centre - float(rng.uniform(0, 0.1)), centre + float(rng.uniform(0, 0.1))
        rows.append(ranking._Ranked(index, index, centre, round(low, 2), round(high, 2), ""))  # ties in bounds
    ranks = ranking._interval_ranks(rows, lower_is_better)
    for row, rank in zip(rows, ranks, strict=True):
        if lower_is_better:
            better = sum(other.high < row.low for other in rows if other is not row)
        else:
            better = sum(other.low > row.high for other in rows if other is not row)
        assert rank == 1 + better


# -- the cache (leaderboard/board_cache.py) -----------------------------------------------------------------------


def test_cached_pages_follow_a_hide_a_rescore_and_a_new_name(board, client, staff):
    """Every kind of page is read twice (the second from the cache), then the board changes: each shows it."""
    leader = max(board, key=lambda name: board[name]["top1"])
    runner_up = sorted(board, key=lambda name: -board[name]["top1"])[1]

    def seen() -> dict[str, str]:
        return {
            "page": client.get("/testsets/cifar10/", {"per_page": 5}).content.decode(),
            "api": names(api_rows(client, per_page=5)["rows"])[0],
            "csv": streamed(client, "/testsets/cifar10/", format="csv").splitlines()[1],
            "json": json.loads(streamed(client, "/api/testsets/cifar10/leaderboard/", format="json"))["rows"][0][
                "name"
            ],
            "home": client.get("/").content.decode(),
        }

    first = seen()
    assert seen() == first  # served again, the same
    assert first["api"] == first["json"] == leader and f",{leader}," in first["csv"]
    assert f">{leader}</a>" in first["page"] and f">{leader}</a>" in first["home"]

    moderating.hide(Submission.objects.get(name=leader), staff, "a test")
    hidden = seen()
    assert hidden["api"] == hidden["json"] == runner_up and f",{runner_up}," in hidden["csv"]
    assert f">{leader}</a>" not in hidden["page"] and f">{leader}</a>" not in hidden["home"]

    last = min(board, key=lambda name: board[name]["top1"])
    better = {"original": score("original", "top1", {"top1": 0.99, "top5": 1, "nll": 0.1})}
    Result.objects.store(Submission.objects.get(name=last), better)
    assert seen()["api"] == last
    # the entry's copy of the metrics it is sorted by followed the re-score (0.1: below every other nll)
    assert names(api_rows(client, sort="nll", per_page=1)["rows"]) == [last]

    owner = Submission.objects.get(name=last).owner
    owner.username = "renamed"
    owner.save()
    assert '<td class="owner">renamed</td>' in seen()["page"]
    assert api_rows(client, per_page=5)["rows"][0]["owner"] == "renamed"


def test_what_staff_see_never_reaches_others_through_the_cache(cifar10, alice, charlie, staff, client):
    """Staff and everyone else are cached apart, whichever reads first: a figure over 18 images shown to staff
    is neither shown nor sortable for others."""
    for name, value in (("A", 0.5), ("B", 0.9)):
        submission = Submission.objects.create(owner=alice, testset=cifar10, name=name, preprocessing={})
        submission.move_to(Status.RUNNING)
        submission.move_to(Status.SCORING)
        stored = score("clean", "top1", {"top1": 0.8, "top5": 0.9, "correctable_top1_original": value})
        stored["counts"] = {"scored": 9_964, "correctable_top1_original": 18}
        Result.objects.store(submission, {"clean": stored})
        submission.move_to(Status.DONE)
    api = "/api/testsets/cifar10/leaderboard/?label_set=clean"
    for readers in ((staff, charlie, None), (None, charlie, staff)):
        caches["boards"].clear()
        for reader in readers:
            client.logout()
            if reader is not None:
                client.force_login(reader)
            rows = client.get(api).json()["rows"]
            page = client.get("/testsets/cifar10/?label_set=clean").content.decode()
            csv_text = streamed_any(client, "/testsets/cifar10/?label_set=clean&format=csv")
            sorted_by = client.get(api + "&sort=correctable_top1_original")
            table = page.split("<tbody", 1)[0]  # the header row: the column is there or not
            if reader is staff:
                assert rows[0]["metrics"]["correctable_top1_original"] in (0.5, 0.9)
                assert "correctable_top1_original" in csv_text.splitlines()[0] and sorted_by.status_code == 200
                assert "Correctable, as given" in table
            else:
                assert all("correctable_top1_original" not in row["metrics"] for row in rows)
                assert "correctable_top1_original" not in csv_text.splitlines()[0]
                assert "Correctable, as given" not in table and sorted_by.status_code == 400


def streamed_any(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200 and response.streaming
    return b"".join(response.streaming_content).decode()


def test_a_cached_board_shows_a_new_baseline_and_a_renamed_label_set(board, client, staff):
    """Neither moves an entry, but both change what the boards show: their stamps change too."""
    page = lambda: client.get("/testsets/cifar10/", {"per_page": 5}).content.decode()  # noqa: E731
    assert "baseline</span>" not in page()
    weakest = min(board, key=lambda name: board[name]["top1"])
    moderating.mark_baseline(Submission.objects.get(name=weakest), staff, "a standard ResNet")
    assert "baseline</span>" in page()
    clean = LabelSet.objects.get(testset__name="cifar10", name="clean", is_current=True)
    assert "Corrected by hand" not in page()
    clean.title = "Corrected by hand"
    clean.save()  # as the admin saves it
    assert "Corrected by hand" in page()


def test_the_last_entrys_sort_values_follow_its_result(cifar10, alice, client):
    """The last entry has no pair to test again, yet its copies of what it is sorted by follow a re-score."""
    make_entry(cifar10, alice, "First", top1=0.9, nll=0.5)
    last = make_entry(cifar10, alice, "Last", top1=0.5, nll=0.9)
    assert names(api_rows(client, sort="nll")["rows"]) == ["First", "Last"]
    rescored = {"original": score("original", "top1", {"top1": 0.5, "top5": 0.6, "nll": 0.1})}
    Result.objects.store(last, rescored)  # still last by top-1, now first by the loss
    assert names(api_rows(client)["rows"]) == ["First", "Last"]
    assert names(api_rows(client, sort="nll")["rows"]) == ["Last", "First"]


# -- exports made ahead -------------------------------------------------------------------------------------

EXPORT_URLS = (
    "/testsets/cifar10/?format=csv",
    "/testsets/cifar10/?label_set=clean&format=csv",
    "/api/testsets/cifar10/leaderboard/?format=json",
    "/api/testsets/cifar10/leaderboard/?label_set=clean&format=csv",
)


def test_exports_made_ahead_are_what_a_download_makes_and_are_served_without_the_board(board, client, staff):
    """What a worker makes ahead is byte for byte what a download makes afresh, and a download then reads it from
    the cache (no query of the board's entries); a change to the board makes new ones, not stale ones."""
    caches["boards"].clear()
    fresh = {url: streamed_any(client, url) for url in EXPORT_URLS}
    caches["boards"].clear()
    current = LabelSet.objects.filter(testset__name="cifar10", is_current=True)
    testset_id = current[0].testset_id
    assert make_exports(testset_id) == 2 * current.count()  # each current board, CSV and JSON
    assert make_exports(testset_id) == 0  # kept alive, not made again
    for url in EXPORT_URLS:
        with CaptureQueriesContext(connection) as captured:
            assert streamed_any(client, url) == fresh[url]
        entries = [q["sql"] for q in captured if "leaderboard_boardentry" in q["sql"]]
        assert not entries, f"{url} read the board: {entries[0][:200]}"

    client.force_login(staff)  # staff see their own exports, never the public's made ahead
    with CaptureQueriesContext(connection) as captured:
        streamed_any(client, EXPORT_URLS[0])
    assert any("leaderboard_boardentry" in q["sql"] for q in captured)
    client.logout()

    moderating.hide(Submission.objects.get(name=fresh_leader(fresh[EXPORT_URLS[0]])), staff, "a test")
    assert make_exports(testset_id) == 2 * current.count()
    hidden = streamed_any(client, EXPORT_URLS[0])
    assert hidden != fresh[EXPORT_URLS[0]] and fresh_leader(hidden) != fresh_leader(fresh[EXPORT_URLS[0]])


def fresh_leader(csv_text: str) -> str:
    return next(csv.DictReader(io.StringIO(csv_text)))["name"]


def test_a_rerank_asks_a_worker_for_the_exports_once_it_commits(
    cifar10, alice, settings, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(queue.app, "send_task", lambda name, args, queue: sent.append((name, args, queue)))
    settings.ZOOBOARD_EXPORTS_AHEAD = True
    with django_capture_on_commit_callbacks(execute=True):
        make_entry(cifar10, alice, "A", top1=0.9, nll=0.5, clean=0.91)
        assert sent == []  # not before the re-ranking commits: the worker would read the board before it
    assert {(name, tuple(args), to) for name, args, to in sent} == {
        ("evaluator.make_board_exports", (cifar10.pk,), settings.ZOOBOARD_CPU_QUEUE)
    }
    sent.clear()
    settings.ZOOBOARD_EXPORTS_AHEAD = False  # the demo's own-memory cache: a worker's exports would not be seen
    with django_capture_on_commit_callbacks(execute=True):
        make_entry(cifar10, alice, "B", top1=0.8, nll=0.5)
    assert sent == []

"""The client's tables, rendered from the API's real answers (the client itself talks HTTP in integration tests)."""

from __future__ import annotations

import pytest
from rich.console import Console

from client import cli
from tests.helpers import finished_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def rendered(monkeypatch):
    console = Console(record=True, width=200)
    monkeypatch.setattr(cli, "console", console)
    return console


def table_rows(console: Console) -> list[list[str]]:
    lines = console.export_text().splitlines()
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if "│" in line]


def test_the_leaderboard_takes_its_columns_from_the_api(cifar10, alice, client, rendered):
    submission = finished_submission(cifar10, alice, "ResNet", 0.8103, 0.9872)
    submission.efficiency = {"parameters": 269_066, "macs": 41_018_250, "throughput": 2000.4}
    submission.save(update_fields=["efficiency"])
    board = client.get("/api/testsets/cifar10/leaderboard/").json()
    cli.show_leaderboard(board, as_json=False)
    assert "page 1 of 1, 1 entries, sorted by rank (asc)" in rendered.export_text(clear=False)
    row = ["1", "1", "ResNet", "alice", "81.03%", "80.03% – 82.03%", "98.72%", "–", "–", "0.27 M", "0.041", "2,000"]
    assert row in table_rows(rendered)


def test_the_leaderboard_marks_ties_and_sends_the_view(cifar10, alice, client, rendered, monkeypatch):
    finished_submission(cifar10, alice, "First", 0.80, 0.99)
    finished_submission(cifar10, alice, "Second", 0.80, 0.99)  # identical intervals: tied
    asked = {}

    def leaderboard(self, testset, label_set, **view):
        asked.update(view, testset=testset, label_set=label_set)
        given = {key: value for key, value in view.items() if value is not None}
        return client.get("/api/testsets/cifar10/leaderboard/", {"label_set": label_set, **given}).json()

    monkeypatch.setattr(cli.ZooboardClient, "leaderboard", leaderboard)
    argv = ["leaderboard", "cifar10", "--sort", "top5", "--order", "asc", "--per-page", "5", "--owner", "alice"]
    assert cli.main(argv) == 0
    assert asked == {
        "testset": "cifar10",
        "label_set": "original",
        "sort": "top5",
        "order": "asc",
        "page": None,
        "per_page": 5,
        **{name: None for name in cli.BOARD_FILTERS},
        "owner": "alice",
    }
    rows = table_rows(rendered)
    assert [row[:3] for row in rows if row[0] in ("1", "2")] == [["1", "1", "First ≈ next"], ["2", "1", "Second"]]


def test_a_soft_label_board_gets_its_own_columns(cifar10, client, rendered):
    board = client.get("/api/testsets/cifar10/leaderboard/?label_set=human").json()
    assert [column["metric"] for column in board["columns"]] == ["human_agreement", "cross_entropy"]
    cli.show_leaderboard(board, as_json=False)
    assert "Human agreement" in rendered.export_text()


def test_losses_print_as_numbers_and_shares_as_percentages(cifar10, alice, client, rendered):
    submission = finished_submission(cifar10, alice, "ResNet", 0.8103, 0.9872)
    submission.results.update(metrics={"top1": 0.8103, "nll": 0.7873})
    body = client.get(f"/api/submissions/{submission.pk}/").json()
    assert body["results"][0]["lower_is_better"] == ["nll"]
    cli.show_submission(body, as_json=False)
    rows = table_rows(rendered)
    assert ["nll", "0.7873", "–"] in rows and ["top1", "81.03%", "80.03% – 82.03%"] in rows


def test_results_print_as_a_table_as_csv_and_as_json(cifar10, alice, client, rendered, capsys):
    submission = finished_submission(cifar10, alice, "ResNet", 0.8103, 0.9872)
    body = client.get(f"/api/submissions/{submission.pk}/").json()
    assert cli.show_results(body, "table") == 0
    assert ["original v1", "top1", "81.03%", "80.03% – 82.03%"] in table_rows(rendered)
    capsys.readouterr()  # the table, printed too
    assert cli.show_results(body, "csv") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "label_set,version,metric,value,low,high"
    row = next(line.split(",") for line in lines if ",top1," in line)
    assert row[:3] == ["original", "1", "top1"] and [float(x) for x in row[3:]] == pytest.approx(
        [0.8103, 0.8003, 0.8203]
    )
    assert cli.show_results(body, "json") == 0
    assert '"top1": 0.8103' in rendered.export_text()


def test_waiting_into_a_pipe_prints_a_line_per_step(monkeypatch, capsys):
    """Not a terminal: a line whenever the status changes or another tenth is done, then the end."""
    answers = iter(
        [{"id": 7, "status": "running", "progress": {"done": done, "total": 100}} for done in (5, 12, 14, 55, 100)]
        + [{"id": 7, "status": "scoring", "progress": {"done": 100, "total": 100}}]
        + [{"id": 7, "status": "done", "progress": {"done": 100, "total": 100}}]
    )

    class Answers:  # the API's answers, in the order a real evaluation gives them
        def submission(self, submission_id):
            return next(answers)

    monkeypatch.setattr(cli, "POLL_SECONDS", 0)
    monkeypatch.setattr(cli, "errors", Console(stderr=True, force_terminal=False, soft_wrap=True))
    first = {"id": 7, "status": "queued", "progress": {"done": 0, "total": 100}}
    assert cli.follow(Answers(), first)["status"] == "done"
    assert capsys.readouterr().err.splitlines() == [
        "submission 7: queued",
        "submission 7: running 5/100 (5%)",
        "submission 7: running 12/100 (12%)",
        "submission 7: running 55/100 (55%)",
        "submission 7: running 100/100 (100%)",
        "submission 7: scoring",
        "submission 7: done",
    ]

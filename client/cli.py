"""zooboard submit | status | results | cancel | leaderboard | quota: the REST API from a terminal, with rich
output.

Exit status: 0 done; 1 the evaluation failed, or the server refused the request or could not be reached; 2 what
was named does not exist (a test set, a label set, a submission) or the command line is wrong."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from client.api import CARD_FIELDS, ClientError, ZooboardClient

FINISHED = {"done", "failed", "cancelled"}
RECIPE_KEYS = (
    "input_size",
    "resize",
    "crop_pct",
    "interpolation",
    "mean",
    "std",
    "value_range",
    "channel_order",
    "output",
)
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # a sentence stays on one line, for scripts


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="zooboard", description=__doc__)
    main.add_argument("--url", default=os.environ.get("ZOOBOARD_URL", "http://127.0.0.1:8000"))
    main.add_argument("--token", default=os.environ.get("ZOOBOARD_TOKEN"), help="default: $ZOOBOARD_TOKEN")
    main.add_argument("--json", action="store_true", help="print the API's JSON instead of tables")
    commands = main.add_subparsers(dest="command", required=True)

    submit = commands.add_parser("submit", help="submit an ONNX file or a timm model for evaluation")
    submit.add_argument("model", help="an ONNX file, or a timm identifier: timm:NAME[.TAG]")
    submit.add_argument("--weights", type=Path, help="with timm:NAME, the model's weights as a .safetensors file")
    submit.add_argument("--testset", required=True)
    submit.add_argument("--name", default="")
    card = submit.add_argument_group("model card", "shown on the submission's page; its owner may edit it there")
    card.add_argument("--description", default="")
    card.add_argument("--paper-url", default="", help="the paper (http or https)")
    card.add_argument("--code-url", default="", help="the training code (http or https)")
    card.add_argument("--licence", default="", help="of the weights, e.g. Apache-2.0")
    card.add_argument("--architecture", default="", help="the architecture family (e.g. resnet), for filtering")
    for key in RECIPE_KEYS:
        submit.add_argument(f"--{key.replace('_', '-')}", dest=key, nargs=3 if key in ("mean", "std") else None)
    submit.add_argument("--wait", action="store_true", help="follow the evaluation to its end")

    status = commands.add_parser("status", help="a submission's status and results")
    status.add_argument("id", type=int)
    status.add_argument("--wait", action="store_true")

    results = commands.add_parser("results", help="a submission's figures under every label set")
    results.add_argument("id", type=int)
    results.add_argument("--format", choices=["table", "json", "csv"], default="table")

    cancel = commands.add_parser("cancel", help="cancel a queued or running evaluation")
    cancel.add_argument("id", type=int)

    board = commands.add_parser("leaderboard", help="a test set's ranking")
    board.add_argument("testset")
    board.add_argument("--label-set", default="original")
    board.add_argument("--sort", help="a column: a metric, another label set, rank, interval_rank, params, ...")
    board.add_argument("--order", choices=["asc", "desc"], help="default: the column's own direction")
    board.add_argument("--page", type=int)
    board.add_argument("--per-page", type=int, help="rows a page (default 50, at most 200)")
    for name in BOARD_FILTERS:
        board.add_argument(f"--{name.replace('_', '-')}", help=f"filter: {name}=")

    quota = commands.add_parser("quota", help="your submissions left per test set, and evaluations in flight")
    quota.add_argument("--testset", help="default: every test set")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    client = ZooboardClient(args.url, args.token, warn=lambda message: say(f"zooboard: {message}"))
    try:
        if args.command == "submit":
            client.testset(args.testset)  # an unknown test set is "not found" (exit 2), before any upload
            recipe = {key: getattr(args, key) for key in RECIPE_KEYS if getattr(args, key) is not None}
            identifier, model = (args.model, args.weights) if args.model.startswith("timm:") else ("", Path(args.model))
            if args.weights is not None and not identifier:
                say("zooboard: --weights goes with a timm identifier (timm:NAME); an ONNX file holds its weights")
                return 2
            submission = client.submit(
                args.testset, model, identifier, args.name, recipe, {key: getattr(args, key) for key in CARD_FIELDS}
            )
            say(f"submission {submission['id']} queued: {submission['name']}")
            if submission.get("quota"):
                errors.print(quota_line(submission["quota"]), markup=False, highlight=False)
        elif args.command == "quota":
            return show_quota(client.quota(args.testset), args.json)
        elif args.command == "results":
            return show_results(client.submission(args.id), "json" if args.json else args.format)
        elif args.command in ("status", "cancel"):
            submission = client.submission(args.id) if args.command == "status" else client.cancel(args.id)
        else:
            view = {key: getattr(args, key) for key in ("sort", "order", "page", "per_page", *BOARD_FILTERS)}
            show_leaderboard(client.leaderboard(args.testset, args.label_set, **view), args.json)
            return 0
        if getattr(args, "wait", False):
            submission = follow(client, submission)
        return show_submission(submission, args.json)
    except ClientError as error:
        say(f"zooboard: {error}")
        return 2 if error.status == 404 else 1


def say(message: str) -> None:
    errors.print(message, markup=False, highlight=False)


def follow(client: ZooboardClient, submission: dict) -> dict:
    """Polls the submission until it finishes: a progress bar on a terminal, else a line on stderr whenever the
    status changes or another tenth of the examples is done (a log, a pipe, CI)."""
    if not errors.is_terminal:
        return _follow_in_lines(client, submission)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=errors, transient=True) as progress:
        bar = progress.add_task(submission["status"], total=submission["progress"]["total"] or None)
        while submission["status"] not in FINISHED:
            time.sleep(POLL_SECONDS)
            submission = client.submission(submission["id"])
            progress.update(bar, description=submission["status"], completed=submission["progress"]["done"])
    return submission


POLL_SECONDS = 1.0


def _follow_in_lines(client: ZooboardClient, submission: dict) -> dict:
    said = None
    while True:
        done, total = submission["progress"]["done"], submission["progress"]["total"]
        tenth = done * 10 // total if total else 0
        if (submission["status"], tenth) != said:
            said = (submission["status"], tenth)
            counted = f" {done}/{total} ({done * 100 // total}%)" if total and submission["status"] == "running" else ""
            say(f"submission {submission['id']}: {submission['status']}{counted}")
        if submission["status"] in FINISHED:
            return submission
        time.sleep(POLL_SECONDS)
        submission = client.submission(submission["id"])


def show_submission(submission: dict, as_json: bool) -> int:
    if as_json:
        console.print_json(json.dumps(submission))
        return 1 if submission["status"] == "failed" else 0
    console.print(f"[bold]{submission['name']}[/bold] (submission {submission['id']}): {submission['status']}")
    if submission["error_message"]:
        console.print(submission["error_message"], style="red", markup=False, soft_wrap=True)
    for result in submission["results"]:
        table = Table(title=f"{result['label_set']} labels (v{result['label_set_version']})")
        table.add_column("metric")
        table.add_column("value", justify="right")
        table.add_column("95% interval", justify="right")
        losses = set(result.get("lower_is_better", []))
        for key, value in result["metrics"].items():
            low, high = result.get("intervals", {}).get(key) or (None, None)
            table.add_row(key, metric_text(value, key in losses), interval_text(low, high, key in losses))
        console.print(table)
    if submission.get("efficiency"):
        console.print(cost_table(submission["efficiency"]))
    return 1 if submission["status"] == "failed" else 0


def show_results(submission: dict, form: str) -> int:
    """A submission's figures: one row per label set and metric, with the 95% interval where there is one."""
    rows = [
        (result["label_set"], result["label_set_version"], key, value, *(result["intervals"].get(key) or (None, None)))
        for result in submission["results"]
        for key, value in result["metrics"].items()
    ]
    if form == "json":
        console.print_json(
            json.dumps({"id": submission["id"], "status": submission["status"], "results": submission["results"]})
        )
    elif form == "csv":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["label_set", "version", "metric", "value", "low", "high"])
        writer.writerows(rows)
        sys.stdout.write(text.getvalue())
    else:
        if not rows:
            say(f"submission {submission['id']} is {submission['status']}: no results yet")
        losses = {key for result in submission["results"] for key in result.get("lower_is_better", [])}
        table = Table(title=f"{submission['name']} (submission {submission['id']})")
        for title in ("label set", "metric", "value", "95% interval"):
            table.add_column(title, justify="right" if title in ("value", "95% interval") else "left")
        for label_set, version, key, value, low, high in rows:
            table.add_row(
                f"{label_set} v{version}",
                key,
                metric_text(value, key in losses),
                interval_text(low, high, key in losses),
            )
        console.print(table)
    return 1 if submission["status"] == "failed" else 0


def interval_text(low, high, lower_is_better: bool) -> str:
    if low is None or high is None:
        return "–"
    return f"{metric_text(low, lower_is_better)} – {metric_text(high, lower_is_better)}"


def cost_table(cost: dict) -> Table:
    table = Table(title="cost to run")
    table.add_column("figure")
    table.add_column("value", justify="right")
    latency = cost.get("latency") or {}
    machine = cost.get("machine") or {}
    rows = [
        ("parameters", millions(cost.get("parameters"))),
        ("GMACs per image", giga(cost.get("macs"))),
        (f"throughput (batch {cost.get('batch_size')})", f"{rate(cost.get('throughput'))} images/s"),
        ("latency at batch 1", f"p50 {latency.get('p50_ms', '–')} ms, p95 {latency.get('p95_ms', '–')} ms"),
        ("precision", (cost.get("precision") or {}).get("precision", "–")),
        ("ran on", f"{machine.get('device', '–')} via {cost.get('provider', '–')}"),
    ]
    for figure, value in rows:
        table.add_row(figure, value)
    return table


def quota_line(standing: dict) -> str:
    """After a submit: what is left on its test set, and the evaluations in flight."""
    if standing["exempt"]:
        return "quota: none (staff)"
    testset = standing["testsets"][0]
    left = f"quota on {testset['testset']}: {testset['remaining']} of {testset['daily_quota']} left in 24 hours"
    if testset["resets_at"]:
        left += f", next slot {utc(testset['resets_at'])}"
    return f"{left}; {standing['in_flight']} of {standing['max_in_flight']} evaluations in flight"


def show_quota(standing: dict, as_json: bool) -> int:
    if as_json:
        console.print_json(json.dumps(standing))
        return 0
    table = Table(title="submissions in any 24 hours (failed ones count)")
    for title in ("test set", "used", "left", "next slot frees"):
        table.add_column(title, justify="left" if title == "test set" else "right")
    for row in standing["testsets"]:
        left = "no limit" if row["daily_quota"] is None else f"{row['remaining']} of {row['daily_quota']}"
        table.add_row(row["testset"], str(row["used"]), left, utc(row["resets_at"]) if row["resets_at"] else "–")
    console.print(table)
    if standing["exempt"]:
        console.print(f"{standing['in_flight']} evaluations in flight; staff have no quota and no cap")
    else:
        console.print(f"{standing['in_flight']} of at most {standing['max_in_flight']} evaluations in flight")
    return 0


def utc(moment: str) -> str:
    """An API timestamp (ISO 8601) as minutes in UTC."""
    return datetime.fromisoformat(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


BOARD_FILTERS = ("model_format", "arch", "owner", "params_min", "params_max", "since", "until", "q")


def show_leaderboard(board: dict, as_json: bool) -> None:
    """Prints a page of a board: as a table, or the API's JSON. A board shown is a success: nothing to return."""
    if as_json:
        console.print_json(json.dumps(board))
        return
    metric_columns = board.get("columns") or [{"metric": "top1", "title": "Top-1", "lower_is_better": False}]
    title = f"{board['testset']} ({board['label_set']} labels, v{board.get('version', 1)})"
    table = Table(title=title, caption=_board_caption(board))
    table.add_column("#", justify="right")
    table.add_column("rank (95%)", justify="right")
    table.add_column("model")
    table.add_column("submitter")
    for column in metric_columns:
        table.add_column(column["title"], justify="right")
        if column is metric_columns[0]:
            table.add_column("95% interval", justify="right")
    for title in ("params", "GMACs", "images/s"):
        table.add_column(title, justify="right")
    for row in board["rows"]:
        cost = row.get("efficiency") or {}
        values = [
            metric_text(row["metrics"].get(column["metric"]), column["lower_is_better"]) for column in metric_columns
        ]
        headline = metric_columns[0]
        low, high = (row.get("intervals") or {}).get(headline["metric"]) or (None, None)
        values.insert(1, interval_text(low, high, headline["lower_is_better"]))
        marks = (" [baseline]" if row.get("baseline") else "") + (" ≈ next" if row.get("tied_with_next") else "")
        table.add_row(
            str(row["rank"]),
            str(row.get("interval_rank", "")),
            row["name"] + marks,
            row["owner"],
            *values,
            millions(cost.get("parameters")),
            giga(cost.get("macs")),
            rate(cost.get("throughput")),
        )
    console.print(table)


def _board_caption(board: dict) -> str:
    if "count" not in board:
        return ""
    order = f"sorted by {board['sort']} ({board['order']})"
    return f"page {board['page']} of {board['pages']}, {board['count']} entries, {order}; ≈ next: statistically tied"


def metric_text(value, lower_is_better: bool) -> str:
    """Shares of examples in percent, losses as plain numbers; missing as a dash."""
    if value is None:
        return "–"
    return f"{value:.4f}" if lower_is_better else f"{value * 100:.2f}%"


# The site's template filters format figures the same way; the client stays free of Django, so it has its own.
def millions(count) -> str:
    if count is None:
        return "–"
    return f"{count / 1e6:.2f} M" if count < 1e7 else f"{count / 1e6:.1f} M"


def giga(count) -> str:
    if count is None:
        return "–"
    return f"{count / 1e9:.3f}" if count < 1e10 else f"{count / 1e9:.1f}"


def rate(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def run() -> None:
    """The `zooboard` command that `pip install ./client` installs."""
    sys.exit(main())


if __name__ == "__main__":
    run()

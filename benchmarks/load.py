"""Load on the leaderboard pages: a board of 10,000 entries browsed by 50 concurrent clients through gunicorn,
with a trivial view measured in the same run as the baseline.

    python manage.py migrate                                 # the database DATABASE_URL names
    python benchmarks/load.py --seed 10000 [--testset cifar10]
    python benchmarks/load.py [--clients 50] [--seconds 60] [--think 0] [--port 8765] [--workers 2] [--threads 4]
                              [--cache-url redis://127.0.0.1:6379/15]

--seed N imports the bundled test set if needed (into ZOOBOARD_DATA_DIR), scores 200 made-up models of
different skill once with the real engine (every current label set: metrics, intervals, counts, slices,
curves, per-example data), then adds N done submissions with these results through the worker's own
`evaluator.tasks._store`, 500 at a time inside `ranking.deferred()`, so the boards are re-ranked once per 500
submissions (as a re-score does) rather than once per submission; then it runs ANALYZE, as autovacuum would
after such a load (this machine's PostgreSQL runs with autovacuum off, and the planner's choices without
statistics are not a production server's). Running it again adds N more.

Without --seed: gunicorn on 127.0.0.1 (DEBUG off, throttles and quotas out of the way, its own scratch var
folder: static files, uploads and a filesystem broker nobody reads; the boards' cache in Redis, emptied
first, as production shares it among its workers), then the clients loop until --seconds
are up (with --think S, each pausing S seconds on average between requests, as a person reads a page), each
request picked at random:

- the board page /testsets/NAME/ (any sort, order, filter, page 1-10) and its clean board (?label_set=clean);
- the API's board /api/testsets/NAME/leaderboard/ with the same kinds of parameters;
- the home page /;
- the whole board as CSV (?format=csv), the full streamed download timed: the last client's first request,
  then at random, one at a time, at most every 10 s. As in production, a worker has made the whole boards'
  exports ahead (leaderboard/board_cache.py): the benchmark does it first, into the emptied cache, and prints
  how long that took; --no-exports-ahead leaves them to be made by the first download;
- the baseline: the API root /api/, which does almost nothing;
- one or two clients also submit a small ONNX model (made unique per upload) through the API with a token
  from `manage.py ensure_user loadbench`; no worker runs, so they stay queued. A 201 whose submission is then
  not in the database is a lost submission. The benchmark's own submissions are deleted at the end.

It prints, per kind of page: requests, p50 and p95 in ms and as ratios to the baseline's, mean and largest
response in KB, 4xx and 5xx; then the slowest parameter sets, the CSV export's time and rows, and the goals.
Goals, at 10,000 entries on this 2-core machine: p95 under 150 ms for the board page (any sort, filter or
page), the API board and the home page; every page under 300 KB; no 5xx; the CSV export of all 10,000 rows
streamed in under 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import F  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from evaluator.engine.scoring import score_all  # noqa: E402
from evaluator.tasks import _store  # noqa: E402
from leaderboard import board_cache, ranking  # noqa: E402
from leaderboard.importing import import_testset  # noqa: E402
from leaderboard.models import BoardEntry, Status, Submission, TestSet  # noqa: E402
from plugins.predictions import Predictions  # noqa: E402
from plugins.testset import LabelSetData, TestSetManifest, testset_root  # noqa: E402

BUNDLED = REPO / "evaluator" / "bundled"
MODELS_DIR = REPO / "var" / "models"

# -- seeding ------------------------------------------------------------------------------------------------
DISTINCT_MODELS = 200  # scored once each; submission i gets model i mod 200's results
SEED_BATCH = 500  # submissions per ranking.deferred() block: one re-ranking each
SEED_USERS = 20
# architecture family -> (variant, parameters in millions)
FAMILIES = {
    "resnet": [("resnet18", 11.7), ("resnet34", 21.8), ("resnet50", 25.6), ("resnet101", 44.5), ("resnet152", 60.2)],
    "efficientnet": [("efficientnet_b0", 5.3), ("efficientnet_b2", 9.1), ("efficientnet_b4", 19.3)],
    "vit": [("vit_tiny", 5.7), ("vit_small", 22.1), ("vit_base", 86.6)],
    "convnext": [("convnext_tiny", 28.6), ("convnext_small", 50.2), ("convnext_base", 88.6)],
    "mobilenetv3": [("mobilenetv3_small", 2.5), ("mobilenetv3_large", 5.5)],
}


def score_models(root: Path, count: int, seed: int) -> list[dict]:
    """The engine's full scores (every current label set) of `count` made-up models of different skill."""
    manifest = TestSetManifest.load(root)
    labels = LabelSetData.load(root, manifest.current_label_set("original")).targets
    rng = np.random.default_rng(seed)
    scored = []
    started = time.perf_counter()
    for index in range(count):
        logits = rng.normal(size=(len(labels), len(manifest.class_names)))
        logits[np.arange(len(labels)), labels] += rng.uniform(0.5, 4.0)
        scored.append(score_all(Predictions.from_logits(logits), root, manifest))
        if (index + 1) % 20 == 0 or index + 1 == count:
            print(f"  scored {index + 1}/{count} models ({time.perf_counter() - started:.0f} s)", flush=True)
    return scored


def efficiency(rng: random.Random, millions: float) -> dict:
    """Plausible cost figures for a model of about this many parameters."""
    parameters = int(millions * 1e6 * rng.uniform(0.9, 1.1))
    macs = int(parameters * rng.uniform(60, 250))
    p50 = max(0.2, macs / 1e9 * rng.uniform(0.8, 2.5))
    return {
        "parameters": parameters,
        "macs": macs,
        "throughput": round(1000 / p50 * rng.uniform(4, 16), 1),
        "latency": {"p50_ms": round(p50, 3), "p95_ms": round(p50 * rng.uniform(1.05, 1.6), 3)},
    }


def seed(count: int, testset_name: str) -> None:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    testset, imported = import_testset(testset_name, BUNDLED)
    root = testset_root(settings.ZOOBOARD_DATA_DIR, testset.name, testset.version)
    print(f"test set {testset.name} v{testset.version} {'imported' if imported else 'already there'} at {root}")
    users = [get_user_model().objects.get_or_create(username=f"seed-user-{n}")[0] for n in range(SEED_USERS)]
    first = Submission.objects.filter(testset=testset, name__startswith="seed-").count()
    models = min(DISTINCT_MODELS, count)
    print(f"scoring {models} distinct models once each with the engine (score_all)...", flush=True)
    scores = score_models(root, models, seed=first)
    scored = time.perf_counter()

    rng = random.Random(first)
    stored, ranking_seconds = 0, 0.0
    for batch_start in range(first, first + count, SEED_BATCH):
        batch_end = min(batch_start + SEED_BATCH, first + count)
        batch_started = time.perf_counter()
        with ranking.deferred():  # the boards are re-ranked once, when the block ends
            for i in range(batch_start, batch_end):
                family = rng.choice(list(FAMILIES))
                variant, millions = rng.choice(FAMILIES[family])
                model_format = "onnx" if i % 2 == 0 else "timm"
                submission = Submission.objects.create(
                    owner=rng.choice(users),
                    testset=testset,
                    name=f"seed-{i} {variant}",
                    model_format=model_format,
                    model_identifier=f"timm:{variant}" if model_format == "timm" else "",
                    architecture=family,
                    preprocessing={},
                    efficiency=efficiency(rng, millions),
                    progress_total=testset.num_examples,
                )
                now = timezone.now()
                Submission.objects.filter(pk=submission.pk).update(
                    status=Status.SCORING, attempts=1, started_at=now, scoring_at=now, progress_done=F("progress_total")
                )
                _store(submission.pk, 1, scores[(i - first) % models], {"run": 1.0})
            stored_at = time.perf_counter()
        ranking_seconds += time.perf_counter() - stored_at
        stored += batch_end - batch_start
        print(
            f"  {stored}/{count} stored: this batch {stored_at - batch_started:.1f} s storing, "
            f"{time.perf_counter() - stored_at:.1f} s re-ranking",
            flush=True,
        )
    analysed = time.perf_counter()
    analyse()
    print(f"ANALYZE: {time.perf_counter() - analysed:.1f} s")
    done = Submission.objects.filter(testset=testset, status=Status.DONE).count()
    entries = board_size(testset)
    total = time.perf_counter() - started
    print(
        f"seeded {count} submissions in {total:.0f} s ({scored - started:.0f} s scoring {models} models, "
        f"{ranking_seconds:.0f} s re-ranking once per {SEED_BATCH}); {done} done submissions, "
        f"{entries} entries on the original board"
    )


def board_size(testset: TestSet | None) -> int:
    """Entries on the test set's current original board."""
    if testset is None:
        return 0
    current = {"label_set__testset": testset, "label_set__name": "original", "label_set__is_current": True}
    return BoardEntry.objects.filter(**current).count()


def analyse() -> None:
    """The planner's statistics, as autovacuum would gather them after a bulk load."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def never_analysed() -> bool:
    """PostgreSQL has no statistics of the boards' table (autovacuum off and no ANALYZE since the seeding)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_analyze IS NULL AND last_autoanalyze IS NULL FROM pg_stat_user_tables WHERE relname = %s",
            [BoardEntry._meta.db_table],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


# -- the server ---------------------------------------------------------------------------------------------
class Server:
    """gunicorn serving config.wsgi on loopback, with a scratch var folder; stopped by stop() whatever happens."""

    def __init__(self, port: int, workers: int, threads: int, cache_url: str):
        self.port = port
        self.scratch = Path(tempfile.mkdtemp(prefix="zooboard-load-"))
        self.log = self.scratch / "gunicorn.log"
        self.env = dict(os.environ)
        for name in ("ZOOBOARD_MEDIA_DIR", "SECURE_SSL_REDIRECT", "ZOOBOARD_PROXY_COUNT"):
            self.env.pop(name, None)
        self.env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            ZOOBOARD_VAR_DIR=str(self.scratch),  # static files, uploads, the secret key, the broker's folders
            CELERY_BROKER_URL="filesystem://localhost/",  # no worker takes what is queued here
            ZOOBOARD_API_RATE_ANON="1000000/minute",
            ZOOBOARD_API_RATE_USER="1000000/minute",
            ZOOBOARD_API_RATE_SUBMIT="1000000/minute",
            ZOOBOARD_DAILY_QUOTA="100000",
            ZOOBOARD_MAX_IN_FLIGHT="100000",
            LOG_LEVEL="WARNING",
        )
        if cache_url:  # the cached boards shared by every worker, as in production; else each process's own
            self.env["BOARD_CACHE_URL"] = cache_url
        self.command = [
            sys.executable, "-m", "gunicorn", "config.wsgi",
            "-b", f"127.0.0.1:{port}", "-w", str(workers), "--threads", str(threads),
            "--log-level", "warning", "--error-logfile", str(self.log),
            # idle connections kept longer than a client pauses (--think): at gunicorn's 2 s, a client sending
            # on a connection the server was closing that instant got no answer, which no user would see
            # through a proxy that keeps its own connections
            "--keep-alive", "75",
        ]  # fmt: skip
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
        subprocess.run(collect, cwd=REPO, env=self.env, check=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.command, cwd=REPO, env=self.env, stdout=log, stderr=log)

    async def wait_ready(self, http, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                if (await http.get(f"{self.url}/api/")).status_code == 200:
                    return
            except Exception:  # not listening yet
                pass
            await asyncio.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within {seconds:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop: its workers finish and exit
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


# -- what the clients ask for -------------------------------------------------------------------------------
BASELINE = "api root (baseline)"
KINDS = ["board", "board clean", "api board", "home", "csv export", BASELINE, "submit"]
WEIGHTS = {"board": 35, "board clean": 10, "api board": 25, "home": 10, "csv export": 3, BASELINE: 17}
GOAL_KINDS = ("board", "board clean", "api board", "home")
GOAL_P95_MS, GOAL_PAGE_KB, GOAL_CSV_S = 150, 300, 2.0
CSV_EVERY_SECONDS = 10
SUBMIT_SHARE = 0.25  # of a submitting client's requests
SORTS = {
    "original": ["top1", "top5", "nll", "ece", "params", "throughput", "rank", "interval_rank", "clean"],
    "clean": ["top1", "top5", "correctable_top1_original", "params", "throughput", "rank", "interval_rank", "original"],
}
ORDERS = [None, "asc", "desc"]
PER_PAGE = 50  # the boards' default page size, which the clients keep
FILTERS = [
    ("q", {"q": "seed-1"}),
    *[("owner", {"owner": f"seed-user-{n}"}) for n in (3, 7, 12)],
    *[("arch", {"arch": family}) for family in FAMILIES],
    *[("model_format", {"model_format": name}) for name in ("onnx", "timm")],
    ("params_min", {"params_min": "20000000"}),
    ("params_max", {"params_max": "20000000"}),
    ("params_min+max", {"params_min": "5000000", "params_max": "50000000"}),
]


@dataclass
class Sample:
    kind: str
    label: str  # the parameters that matter, for the slow-spot breakdown
    status: int  # 0: no answer (connection error or timeout)
    ms: float
    size: int
    rows: int = 0  # CSV rows
    detail: str = ""  # what a 4xx or 5xx answer said


@dataclass
class Plan:
    """The boards' valid sort keys and the pages each (board, filter) has, found by asking the site first."""

    testset: str
    sorts: dict[str, list[str]]
    pages: dict[tuple[str, str], int]
    csv_busy: bool = False
    csv_last: float = -1e9
    samples: list[Sample] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    upload_count: int = 0

    def board_params(self, rng: random.Random, label_set: str) -> tuple[str, dict]:
        params = {} if label_set == "original" else {"label_set": label_set}
        sort = rng.choice(self.sorts[label_set])
        order = rng.choice(ORDERS)
        params["sort"] = sort
        if order:
            params["order"] = order
        name, chosen = ("none", {}) if rng.random() < 0.5 else rng.choice(FILTERS)
        params.update(chosen)
        page = rng.randint(1, max(1, min(10, self.pages.get((label_set, name + str(chosen)), 1))))
        if page > 1:
            params["page"] = str(page)
        return f"sort={sort} {'order=' + order if order else ''} filter={name} page={page}", params


async def timed_get(http, url: str, params: dict | None = None) -> tuple[int, float, int, str]:
    started = time.perf_counter()
    try:
        response = await http.get(url, params=params)
        ms = (time.perf_counter() - started) * 1000
        return response.status_code, ms, len(response.content), answer_detail(response)
    except Exception as error:
        return 0, (time.perf_counter() - started) * 1000, 0, f"{type(error).__name__}: {error}"[:200]


def answer_detail(response) -> str:
    """The request and the start of the answer, for a 4xx or 5xx (the page's error sentence, the API's JSON)."""
    if response.status_code < 400:
        return ""
    text = response.text
    if "<" in text:  # a page: its error paragraph, if it has one
        start = text.find('id="board-error"')
        text = text[start + len('id="board-error"') + 1 :] if start >= 0 else text
    return f"{response.request.url.path}?{response.request.url.query.decode()} -> {' '.join(text.split())[:160]}"


async def timed_csv(http, url: str) -> tuple[int, float, int, int]:
    """The whole streamed download: status, ms to the last byte, bytes, rows (lines after the header)."""
    started, size, lines = time.perf_counter(), 0, 0
    try:
        async with http.stream("GET", url, params={"format": "csv"}) as response:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                lines += chunk.count(b"\n")
            status = response.status_code
    except Exception:
        status = 0
    return status, (time.perf_counter() - started) * 1000, size, max(0, lines - 1)


class Uploader:
    """A small ONNX model made unique per upload (its doc_string), so that the duplicate check lets it in."""

    def __init__(self, path: Path, token: str):
        import onnx

        self.model = onnx.load(str(path))
        self.token = token
        self.run = uuid.uuid4().hex[:8]

    def payload(self, number: int) -> bytes:
        self.model.doc_string = f"zooboard load benchmark {self.run}-{number}"
        return self.model.SerializeToString()


async def submit(http, server: Server, plan: Plan, uploader: Uploader) -> Sample:
    plan.upload_count += 1
    number = plan.upload_count
    data = {"testset": plan.testset, "name": f"loadbench {uploader.run}-{number}"}
    files = {"model_file": ("model.onnx", uploader.payload(number), "application/octet-stream")}
    started = time.perf_counter()
    try:
        response = await http.post(
            f"{server.url}/api/submissions/",
            data=data,
            files=files,
            headers={"Authorization": f"Token {uploader.token}"},
        )
        status, size, detail = response.status_code, len(response.content), answer_detail(response)
        if status == 201:
            plan.created.append(response.json()["id"])
    except Exception as error:
        status, size, detail = 0, 0, f"{type(error).__name__}: {error}"[:200]
    return Sample("submit", "", status, (time.perf_counter() - started) * 1000, size, detail=detail)


async def client(
    index: int,
    http,
    server: Server,
    plan: Plan,
    deadline: float,
    uploader: Uploader | None,
    exporter: bool,
    think: float = 0.0,
) -> None:
    """One client's requests until the deadline; think > 0: a pause between them (exponential, that mean), as a
    person reads the page before the next click. It models the workload and waits for nothing."""
    rng = random.Random(index)
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    board_url = f"{server.url}/testsets/{plan.testset}/"
    api_board_url = f"{server.url}/api/testsets/{plan.testset}/leaderboard/"
    for turn in range(1_000_000):  # bounded: ends at the deadline long before this
        # a pause before the first request too: people arrive at random times, not 50 in the same millisecond
        # (which queued every first request behind the 49 others: a burst no browsing makes)
        if think:
            await asyncio.sleep(min(rng.expovariate(1 / think), max(0.0, deadline - time.monotonic())))
        if time.monotonic() >= deadline:
            return
        first_export = exporter and turn == 0  # so that every run measures the export at least once
        if uploader is not None and not first_export and rng.random() < SUBMIT_SHARE:
            plan.samples.append(await submit(http, server, plan, uploader))
            continue
        kind = "csv export" if first_export else rng.choices(kinds, weights)[0]
        if kind == "csv export":
            if plan.csv_busy or time.monotonic() - plan.csv_last < CSV_EVERY_SECONDS:
                kind = "board"  # one export at a time, at most every CSV_EVERY_SECONDS
            else:
                plan.csv_busy, plan.csv_last = True, time.monotonic()
                try:
                    status, ms, size, rows = await timed_csv(http, board_url)
                finally:
                    plan.csv_busy = False
                plan.samples.append(Sample(kind, "all rows", status, ms, size, rows))
                continue
        label, params = "", None
        if kind == "board":
            label, params = plan.board_params(rng, "original")
            url = board_url
        elif kind == "board clean":
            label, params = plan.board_params(rng, "clean")
            url = board_url
        elif kind == "api board":
            label_set = "clean" if rng.random() < 0.25 else "original"
            label, params = plan.board_params(rng, label_set)
            label = f"label_set={label_set} {label}"
            url = api_board_url
        elif kind == "home":
            url = f"{server.url}/"
        else:
            url = f"{server.url}/api/"
        status, ms, size, detail = await timed_get(http, url, params)
        plan.samples.append(Sample(kind, label, status, ms, size, detail=detail))


async def make_plan(http, server: Server, testset: str) -> Plan:
    """Asks the API which sort keys each board takes and how many pages each filter leaves (not timed; it also
    warms the workers up)."""
    api = f"{server.url}/api/testsets/{testset}/leaderboard/"
    plan = Plan(testset, {}, {})
    for label_set, sorts in SORTS.items():
        plan.sorts[label_set] = []
        for sort in sorts:
            response = await http.get(api, params={"label_set": label_set, "sort": sort, "per_page": 1})
            if response.status_code == 200:
                plan.sorts[label_set].append(sort)
            else:
                print(f"  {label_set} board: sort={sort} answers {response.status_code}: {response.text[:200]}")
        for name, chosen in [("none", {}), *FILTERS]:
            response = await http.get(api, params={"label_set": label_set, "per_page": 1, **chosen})
            if response.status_code != 200:
                print(f"  {label_set} board: {chosen} answers {response.status_code}: {response.text[:200]}")
            count = response.json().get("count", 0) if response.status_code == 200 else 0
            plan.pages[(label_set, name + str(chosen))] = -(-count // PER_PAGE)
    for url in (f"{server.url}/", f"{server.url}/testsets/{testset}/", f"{server.url}/api/"):
        await http.get(url)
    return plan


async def drive(server: Server, args, token: str, model: Path) -> tuple[Plan, float]:
    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)  # Django's settings log INFO: a line per request
    limits = httpx.Limits(max_connections=args.clients + 5, max_keepalive_connections=args.clients + 5)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        await server.wait_ready(http)
        plan = await make_plan(http, server, args.testset)
        uploader = Uploader(model, token)
        submitters = 1 if args.clients < 10 else 2
        thinking = f", each pausing {args.think:g} s on average between requests" if args.think else ""
        print(
            f"{args.clients} clients ({submitters} of them also submitting{thinking}) for {args.seconds:.0f} s...",
            flush=True,
        )
        started = time.monotonic()
        deadline = started + args.seconds
        await asyncio.gather(
            *(
                client(
                    n,
                    http,
                    server,
                    plan,
                    deadline,
                    uploader if n < submitters else None,
                    n == args.clients - 1,
                    args.think,
                )
                for n in range(args.clients)
            )
        )
        return plan, time.monotonic() - started


# -- the report ---------------------------------------------------------------------------------------------
def percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def report(plan: Plan, seconds: float, lost: int, entries: int, clients: int) -> None:
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in plan.samples:
        by_kind[sample.kind].append(sample)
    answered = [s.ms for s in by_kind[BASELINE] if s.status]
    base50, base95 = percentiles(answered) if answered else (float("nan"), float("nan"))
    print(
        f"\n{len(plan.samples)} requests in {seconds:.1f} s ({len(plan.samples) / seconds:.0f}/s), {clients} clients, "
        f"{entries:,} entries on the original board\n"
    )
    header = (
        f"{'page':<22}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'p50 x':>8}{'p95 x':>8}"
        f"{'mean KB':>9}{'max KB':>9}{'4xx':>6}{'5xx':>6}{'no answer':>10}"
    )
    print(header)
    print("-" * len(header))
    for kind in KINDS:
        samples = by_kind.get(kind, [])
        if not samples:
            continue
        ms = [s.ms for s in samples if s.status]
        p50, p95 = percentiles(ms) if ms else (float("nan"), float("nan"))
        sizes = [s.size / 1024 for s in samples if s.status]
        print(
            f"{kind:<22}{len(samples):>9}{p50:>9.1f}{p95:>9.1f}{p50 / base50:>8.1f}{p95 / base95:>8.1f}"
            f"{np.mean(sizes) if sizes else 0:>9.1f}{max(sizes, default=0):>9.1f}"
            f"{sum(400 <= s.status < 500 for s in samples):>6}{sum(s.status >= 500 for s in samples):>6}"
            f"{sum(s.status == 0 for s in samples):>10}"
        )

    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for sample in plan.samples:
        if sample.kind in ("board", "board clean", "api board") and sample.status == 200:
            words = dict(word.split("=", 1) for word in sample.label.split() if "=" in word)
            for key in ("sort", "filter"):
                groups[(sample.kind, f"{key}={words.get(key)}")].append(sample.ms)
            groups[(sample.kind, "page>1" if words.get("page") != "1" else "page=1")].append(sample.ms)
    slowest = sorted(
        ((*percentiles(ms)[::-1], len(ms), kind, what) for (kind, what), ms in groups.items() if len(ms) >= 5),
        reverse=True,
    )[:12]
    print("\nslowest parameters (p95 over the requests with that parameter, at least 5 of them):")
    for p95, p50, count, kind, what in slowest:
        print(f"  {kind:<12} {what:<40} n={count:<5} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")

    exports = [s for s in by_kind.get("csv export", []) if s.status == 200]
    if exports:
        times = [s.ms / 1000 for s in exports]
        print(
            f"\nCSV export of the whole board: {len(exports)} downloads, {exports[0].rows:,} rows, "
            f"{exports[0].size / 1024:.0f} KB; {min(times):.2f} s fastest, {np.median(times):.2f} s median, "
            f"{max(times):.2f} s slowest"
        )
    else:
        print("\nCSV export: no successful download")
    made = sum(s.status == 201 for s in by_kind.get("submit", []))
    refused = sum(s.status in (409, 429) for s in by_kind.get("submit", []))
    print(f"submissions: {made} made (201), {refused} refused (409/429), {lost} lost")
    total_5xx = sum(s.status >= 500 for s in plan.samples)
    no_answer = sum(s.status == 0 for s in plan.samples)
    print(f"5xx in all: {total_5xx}; no answer in all: {no_answer}")
    refusals = defaultdict(int)
    for sample in plan.samples:
        if sample.status >= 400 or sample.status == 0:
            refusals[(sample.kind, sample.status, sample.detail)] += 1
    if refusals:
        print("answers other than 2xx:")
        for (kind, status, detail), count in sorted(refusals.items(), key=lambda item: -item[1])[:10]:
            print(f"  {count} x {kind} {status}: {detail}")

    print("\ngoals:")
    for kind in GOAL_KINDS:
        ms = [s.ms for s in by_kind.get(kind, []) if s.status]
        if ms:
            p95 = percentiles(ms)[1]
            print(f"  {kind}: p95 {p95:.0f} ms, goal under {GOAL_P95_MS}: {'met' if p95 < GOAL_P95_MS else 'NOT met'}")
    largest = max((s for s in plan.samples if s.kind in GOAL_KINDS), key=lambda s: s.size, default=None)
    if largest is not None:
        kb = largest.size / 1024
        verdict = "met" if kb < GOAL_PAGE_KB else "NOT met"
        print(f"  largest page: {kb:.0f} KB ({largest.kind} {largest.label}), goal under {GOAL_PAGE_KB}: {verdict}")
    print(f"  5xx: {total_5xx}, goal 0: {'met' if total_5xx == 0 else 'NOT met'}")
    if exports:
        slowest_csv = max(s.ms for s in exports) / 1000
        verdict = "met" if slowest_csv < GOAL_CSV_S else "NOT met"
        print(f"  CSV export: slowest {slowest_csv:.2f} s, goal under {GOAL_CSV_S:.0f} s: {verdict}")


def api_token() -> str:
    out = io.StringIO()
    call_command("ensure_user", "loadbench", password="x", stdout=out)
    return out.getvalue().strip().splitlines()[-1].removeprefix("API token ")


def small_onnx_model() -> Path:
    if not list(MODELS_DIR.glob("*.onnx")):
        subprocess.run([sys.executable, "-m", "evaluator.conversion", str(MODELS_DIR)], cwd=REPO, check=True)
    return min(MODELS_DIR.glob("*.onnx"), key=lambda path: path.stat().st_size)


def make_exports_ahead(testset, cache_url: str) -> None:
    """What a worker does once a re-ranking commits (leaderboard/board_cache.py): the whole boards' exports, made
    into the cache gunicorn's workers read."""
    redis_cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": cache_url}
    with override_settings(CACHES={**settings.CACHES, "boards": redis_cache}):
        started = time.perf_counter()
        made = board_cache.make_exports(testset.pk)
        print(f"{made} whole-board exports made ahead in {time.perf_counter() - started:.1f} s, as a worker would")
    connections.close_all()


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def load(args) -> None:
    testset = TestSet.objects.filter(name=args.testset).first()
    entries = board_size(testset)
    if not entries:
        sys.exit(f"the {args.testset} board is empty in this database: seed it first (--seed 10000)")
    if never_analysed():
        print("warning: PostgreSQL has no statistics of the board's table (autovacuum off?): run ANALYZE first")
    model = small_onnx_model()
    token = api_token()
    # the benchmark's earlier submissions (a run stopped half-way): their files were in a removed scratch folder
    Submission.objects.filter(owner__username="loadbench").delete()
    connections.close_all()  # idle until the end; gunicorn's workers have their own
    if args.cache_url:  # a cold cache: every page made once before it is served from there
        import redis

        redis.Redis.from_url(args.cache_url).flushdb()
        if args.exports_ahead:
            make_exports_ahead(testset, args.cache_url)
    server = Server(args.port, args.workers, args.threads, args.cache_url)
    signal.signal(signal.SIGTERM, _interrupted)  # stopped like Ctrl-C: gunicorn goes too
    try:
        cache = f"boards cached in {args.cache_url}" if args.cache_url else "boards cached in each process"
        print(f"gunicorn on {server.url} ({args.workers} workers x {args.threads} threads, {cache}), log {server.log}")
        server.start()
        plan, seconds = asyncio.run(drive(server, args, token, model))
    except KeyboardInterrupt:
        Submission.objects.filter(owner__username="loadbench").delete()
        raise
    finally:
        server_log = server.log_tail()
        server.stop()
    found = set(Submission.objects.filter(pk__in=plan.created).values_list("pk", flat=True))
    lost = len(set(plan.created) - found)
    Submission.objects.filter(owner__username="loadbench").delete()
    report(plan, seconds, lost, entries, args.clients)
    if any(s.status >= 500 for s in plan.samples):
        print(f"\ngunicorn's log, last lines:\n{server_log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, metavar="N", help="add N done submissions with results, then exit")
    parser.add_argument("--testset", default="cifar10")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        metavar="S",
        help="each client pauses S seconds on average between requests, as people reading pages do (default 0: "
        "every client asks again the moment it is answered)",
    )
    parser.add_argument(
        "--cache-url",
        default="redis://127.0.0.1:6379/15",
        help="where gunicorn's workers keep the boards they made (BOARD_CACHE_URL), emptied first; '' for each "
        "process's own memory (the demo's default)",
    )
    parser.add_argument(
        "--no-exports-ahead",
        dest="exports_ahead",
        action="store_false",
        help="leave the whole boards' exports to be made when first asked for, as without a worker making them "
        "ahead (the default makes them first, as a worker does once a board is re-ranked)",
    )
    args = parser.parse_args()
    if args.seed is not None:
        if args.seed <= 0:
            parser.error("--seed takes a positive number of submissions")
        seed(args.seed, args.testset)
        return
    if args.clients <= 0 or not 0 < args.seconds <= 3600 or not 0 <= args.think <= 60:
        parser.error("--clients must be positive, --seconds from 1 to 3600 and --think from 0 to 60")
    try:
        load(args)
    except KeyboardInterrupt:
        sys.exit("interrupted: gunicorn stopped, the benchmark's submissions deleted")


if __name__ == "__main__":
    main()

"""A crawl of every route of the URL conf and every GET path of the OpenAPI schema, as anonymous, alice (the
submitter), bob (another submitter) and staff: no response holds hidden labels, per-example predictions, worker
paths, another user's error, file or token, or, for everyone but staff, a figure over fewer than 25 images.
Routes are read from the URL conf and the schema as they are, so new pages and endpoints are crawled too."""

from __future__ import annotations

import base64
import html
import itertools
import json
import math
from dataclasses import dataclass, field
from io import StringIO
from urllib.parse import quote

import numpy as np
import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, URLResolver, get_resolver, resolve
from django.utils.regex_helper import normalize
from scipy import stats

from evaluator.stored import save_predictions
from leaderboard.models import Status, Submission
from tests.helpers import evaluated, raw_truth, values_per_label_set

VIEWERS = ("anonymous", "alice", "bob", "staff")
LABEL_SETS = ("original", "clean", "plausible", "human")
ERROR = "the model's output has 7 classes; this test set has 10 (seen by its submitter and staff only)"
RUN = slice(5000, 5040)  # 40 consecutive examples


@dataclass
class Secret:
    what: str
    needles: list[bytes]
    allowed: set[str] = field(default_factory=set)  # the viewers who may see it


def encodings(values: list, names: list[str] | None = None) -> list[bytes]:
    """A run of labels or classes as a response could hold it: separated by commas, spaces, nothing (JSON lists
    included), by class name, and as the raw bytes of a uint8 or int64 array."""
    texts = [sep.join(map(str, values)) for sep in (",", ", ", " ", "")]
    if names:
        texts += [sep.join(names[v] for v in values) for sep in (",", ", ", " ")]
    array = np.asarray(values)
    return [text.encode() for text in texts] + [array.astype(np.uint8).tobytes(), array.astype("<i8").tobytes()]


def small_figures(truth, predictions) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Every figure over the 18 correctable images, computed from the raw files: each label set's score of the
    model's top-1 class there, and the Wilson intervals of the two accuracies."""
    values, top1 = values_per_label_set(truth), predictions.top_classes[:, 0]
    correctable = np.flatnonzero(truth["status"] == "correctable")
    figures = {
        f"{name} on the correctable images": float(v[correctable, top1[correctable]].mean())
        for name, v in values.items()
    }
    intervals = {}
    for name in ("original", "clean"):
        hits = int(values[name][correctable, top1[correctable]].sum())
        ci = stats.binomtest(hits, len(correctable)).proportion_ci(method="wilson")
        intervals[f"interval of {name} top1 on the correctable images"] = (ci.low, ci.high)
    return figures, intervals


def public_lookalikes(truth, predictions) -> list[float]:
    """Values a small figure can share with a public one: 0, 1/2, 1, and the dropped images' scores (8 of 18
    is 16 of 36): those cannot be told apart by value and are left to the structural check."""
    values, top1 = values_per_label_set(truth), predictions.top_classes[:, 0]
    dropped = np.flatnonzero(np.isin(truth["status"], ("neither", "non-agreement")))
    scores = [v[dropped, top1[dropped]] for v in values.values()]
    return [0.0, 0.5, 1.0] + [float(s.mean()) for s in scores if not np.isnan(s).any()]


def as_text(text: str) -> list[bytes]:
    """A sentence as a page (HTML-escaped) or the API (JSON) writes it."""
    return [text.encode(), html.escape(text).encode(), json.dumps(text).encode()]


def figure_needles(value: float) -> list[bytes]:
    """A figure as the API (its first 10 decimals) and the pages (a percent cell) write it."""
    return [repr(value)[:12].encode(), f">{value * 100:.2f}%<".encode()]


def token_for(user) -> str:
    """The key `manage.py ensure_user` prints as its last line, as operators and scripts get one."""
    out = StringIO()
    call_command(
        "ensure_user", user.username, "--password", "password", *(["--staff"] if user.is_staff else []), stdout=out
    )
    return out.getvalue().strip().splitlines()[-1].removeprefix("API token ")


@pytest.fixture
def world(cifar10, alice, bob, staff, real_predictions, cifar10_root, settings):
    """alice: a done submission with results, stored predictions and a model file, and a failed one with an
    error; bob: a done one and a hidden one. Returns the secrets each viewer may or may not see."""
    truth = raw_truth()
    done = {}
    for owner, model in ((alice, "resnet20"), (bob, "resnet8")):
        submission = evaluated(cifar10, owner, f"{owner.username}'s {model}", real_predictions(model), cifar10_root)
        submission.model_file.save("model.onnx", ContentFile(b"an uploaded model"))
        save_predictions(submission.pk, real_predictions(model))
        done[owner.username] = (submission, real_predictions(model))
    failed = Submission.objects.create(owner=alice, testset=cifar10, name="alice's broken model", preprocessing={})
    failed.move_to(Status.RUNNING)
    failed.move_to(Status.FAILED, error_message=ERROR)
    hidden = evaluated(cifar10, bob, "bob's model under moderation", real_predictions("resnet8"), cifar10_root)
    hidden.hidden = True
    hidden.save()
    secrets = [
        Secret("40 consecutive original labels", encodings(truth["labels"][RUN].tolist(), truth["names"])),
        Secret("the correctable images' ids", encodings(np.flatnonzero(truth["status"] == "correctable").tolist())),
        Secret(
            "ZOOBOARD_DATA_DIR",
            [str(settings.ZOOBOARD_DATA_DIR).encode(), quote(str(settings.ZOOBOARD_DATA_DIR)).encode()],
        ),
        Secret("MEDIA_ROOT", [str(settings.MEDIA_ROOT).encode(), quote(str(settings.MEDIA_ROOT)).encode()]),
        Secret("the predictions folder", [str(settings.STORAGES["predictions"]["OPTIONS"]["location"]).encode()]),
        Secret("alice's error message", as_text(ERROR), {"alice", "staff"}),
        Secret("bob's hidden submission", as_text(hidden.name), {"bob", "staff"}),
    ]
    for user in (alice, bob, staff):
        secrets.append(Secret(f"{user.username}'s API token", [token_for(user).encode()], {user.username}))
    for owner, (submission, predictions) in done.items():
        file_id = submission.model_file.name.rsplit("/", 1)[-1].split(".")[0]
        secrets.append(Secret(f"{owner}'s model file", [file_id.encode()], {owner, "staff"}))
        secrets += prediction_secrets(owner, predictions, truth)
    return {"secrets": secrets, "submissions": [done["alice"][0], done["bob"][0], failed, hidden]}


def prediction_secrets(owner: str, predictions, truth) -> list[Secret]:
    top1 = predictions.top_classes[:, 0]
    correct = np.packbits(top1 == truth["labels"]).tobytes()[:30]
    secrets = [
        Secret(f"{owner}'s top-1 predictions", encodings(top1[RUN].tolist(), truth["names"])),
        Secret(
            f"{owner}'s top-1 probabilities",
            [", ".join(map(repr, predictions.confidence[RUN].tolist())).encode()],
        ),
        Secret(f"{owner}'s per-example correctness", [correct, correct.hex().encode(), base64.b64encode(correct)]),
    ]
    figures, intervals = small_figures(truth, predictions)
    lookalikes = public_lookalikes(truth, predictions)
    for name, value in figures.items():
        if not any(math.isclose(value, other, abs_tol=1e-12) for other in lookalikes):
            secrets.append(Secret(f"{owner}'s {name} (18 images)", figure_needles(value), {"staff"}))
    for name, (low, high) in intervals.items():
        needles = [repr(low)[:12].encode(), repr(high)[:12].encode(), f"{low * 100:.2f}–{high * 100:.2f}".encode()]
        secrets.append(Secret(f"{owner}'s {name} (18 images)", needles, {"staff"}))
    return secrets


def routes():
    """(regex of the whole path, route) for every route of the URL conf, included ones too."""

    def walk(resolver, prefix: str):
        for entry in resolver.url_patterns:
            regex = prefix + entry.pattern.regex.pattern.removeprefix("^")
            if isinstance(entry, URLResolver):
                yield from walk(entry, regex)
            else:
                yield regex, entry

    yield from walk(get_resolver(), "")


def parameter_values(name: str, route, submissions) -> list[str]:
    """Real ids and names for a route's path parameters: the world's submissions, an admin page's own objects."""
    model_admin = getattr(route.callback, "model_admin", None)
    if name in ("pk", "id", "object_id"):
        if model_admin is not None and model_admin.model is not Submission:
            return [str(pk) for pk in model_admin.model._default_manager.values_list("pk", flat=True)[:1]] or ["1"]
        return [str(submission.pk) for submission in submissions]
    pool = {
        "name": ["cifar10"],
        "testset": ["cifar10"],
        "format": ["json", ".json"],
        "app_label": [config.label for config in apps.get_app_configs()],
        "content_type_id": [str(ContentType.objects.get_for_model(Submission).pk)],
        "url": ["no-such-page/"],
        "uidb64": ["MQ"],
        "token": ["set-password"],
    }
    return pool.get(name, ["1"])


def route_urls(submissions) -> tuple[list[str], set[str], list[str]]:
    """Every route filled with real values (each checked to resolve back to its own view), the first URL of each
    route (crawled with HEAD and OPTIONS too), and the routes that could not be filled. A route with a test
    set's name is also crawled under each label set."""
    urls, firsts, unfilled = [], set(), []
    for regex, route in routes():
        filled = []
        for template, params in normalize(regex):
            choices = [parameter_values(name, route, submissions) for name in params]
            for values in itertools.islice(itertools.product(*choices), 8):
                url = "/" + template % dict(zip(params, values, strict=True))
                try:
                    if resolve(url.split("?")[0]).func is route.callback:
                        filled.append(url)
                except Resolver404:
                    pass
        if not filled:
            unfilled.append(f"{regex} ({route.name})")
        firsts.update(filled[:1])
        for url in dict.fromkeys(filled):
            urls.append(url)
            if "cifar10" in url and "format" not in route.pattern.regex.groupindex:
                urls += [f"{url}?label_set={name}" for name in LABEL_SETS]
    return urls, firsts, unfilled


def schema_urls(client: Client, submissions) -> list[str]:
    """Every GET path of the OpenAPI schema, its path parameters filled, and its enumerated query values."""
    schema = client.get("/api/schema/?format=json").json()
    urls = []
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        parameters = operations["get"].get("parameters", [])
        names = [p["name"] for p in parameters if p["in"] == "path"]
        pools = [
            [str(s.pk) for s in submissions] if name in ("id", "pk") else ["cifar10"] if "name" in name else ["1"]
            for name in names
        ]
        for values in itertools.product(*pools):
            url = path
            for name, value in zip(names, values, strict=True):
                url = url.replace("{" + name + "}", value)
            urls.append(url)
            for parameter in (p for p in parameters if p["in"] == "query"):
                choices = LABEL_SETS if parameter["name"] == "label_set" else parameter["schema"].get("enum", [])
                if parameter["name"] == "testset":
                    choices = ["cifar10"]
                urls += [f"{url}?{parameter['name']}={quote(str(choice))}" for choice in list(choices)[:6]]
    return urls


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def structural_leaks(data, path: str = "") -> list[str]:
    """In a JSON body for non-staff: any slice of fewer than 25 images with a figure, and any figure over the
    18 correctable images (anywhere but the counts that say how many images a figure is over)."""
    found = []
    if isinstance(data, dict):
        figures = (data.get("metrics") or {}).values() if isinstance(data.get("metrics"), dict) else ()
        if {"slicer", "name", "count"} <= set(data) and data["count"] < 25 and any(v is not None for v in figures):
            found.append(f"{path}: slice {data['slicer']}/{data['name']} of {data['count']} images")
        for key, value in data.items():
            if key in ("counts", "staff_only", "staff_only_columns"):
                continue
            if key.startswith("correctable_top1_") and isinstance(value, int | float | list):
                found.append(f"{path}.{key} = {value}")
            found += structural_leaks(value, f"{path}.{key}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += structural_leaks(value, f"{path}[{index}]")
    return found


def check(viewer: str, method: str, url: str, response, secrets, seen: set) -> list[str]:
    """What this response should not hold for this viewer, each as one line of the report."""
    body, where = body_of(response), f"{viewer} {method} {url} [{response.status_code}]"
    found = []
    if response.status_code >= 500:
        found.append(f"{where}: server error")
    if response.status_code == 429:
        found.append(f"{where}: throttled, so not crawled")
    for secret in secrets:
        for needle in secret.needles:
            if needle and needle in body:
                seen.add((viewer, secret.what))
                if viewer not in secret.allowed:
                    found.append(f"{where}: holds {secret.what} ({needle[:60]!r})")
                break
    if viewer != "staff" and response.get("Content-Type", "").startswith("application/json") and body:
        found += [f"{where}: {leak}" for leak in structural_leaks(json.loads(body))]
    return found


def test_no_response_holds_what_its_viewer_may_not_see(world, alice, bob, staff):
    submissions, secrets = world["submissions"], world["secrets"]
    clients = {"anonymous": Client(raise_request_exception=False)}
    for user in (alice, bob, staff):
        user.refresh_from_db()  # ensure_user set a new password: a stale one would sign the session out
        clients[user.username] = Client(raise_request_exception=False)
        clients[user.username].force_login(user)
    urls, firsts, unfilled = route_urls(submissions)
    urls = list(dict.fromkeys(urls + schema_urls(clients["anonymous"], submissions)))
    findings, seen, requests = [], set(), 0
    for viewer, url in itertools.product(VIEWERS, urls):
        if url.startswith("/admin/") and viewer != "staff" and url not in firsts:
            continue  # the admin sends everyone else to its sign-in page: one URL of each of its routes will do
        methods = ("GET", "HEAD", "OPTIONS") if url in firsts and url.startswith("/api/") else ("GET",)
        for method in methods:
            for cache in caches.all():
                cache.clear()  # throttles count in the cache: a crawl is not a flood
            response = clients[viewer].generic(method, url)
            requests += 1
            findings += check(viewer, method, url, response, secrets, seen)
    report = "\n".join(findings[:60]) + (f"\n… and {len(findings) - 60} more" if len(findings) > 60 else "")
    assert not findings, f"{len(findings)} finding(s) in {requests} requests:\n{report}"
    assert not unfilled, f"routes the crawl could not fill with real values: {unfilled}"
    assert 200 <= requests <= 1200, f"{requests} requests: the crawl should stay bounded and reach every route"
    # the checks can fire: staff and the submitter do see what is theirs to see
    staff_only = {secret.what for secret in secrets if secret.what.endswith("(18 images)")}
    missed = staff_only - {what for viewer, what in seen if viewer == "staff"}
    assert staff_only and not missed, f"figures staff should have seen somewhere, so the check can find them: {missed}"
    assert ("alice", "alice's error message") in seen and ("staff", "alice's error message") in seen

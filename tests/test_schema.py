"""schemathesis against /api/schema/: every operation, as an anonymous visitor and as a signed-in submitter,
answers as the schema says (no server error, no undocumented status, body, content type or header).

In-process through WSGI, on the pytest-django database with a test set, a finished and a queued submission
in it; a few examples per operation, so that it runs in about a minute.
"""

from __future__ import annotations

import io
import re

import hypothesis
import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from leaderboard.models import Result, Status, Submission
from plugins.recipe import Recipe

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
BOUNDED = hypothesis.settings(
    max_examples=8,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure here is reproducible
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)


def finished(testset, owner, name: str, top1: float) -> Submission:
    submission = Submission.objects.create(
        owner=owner, testset=testset, name=name, preprocessing=Recipe(input_size=32).to_dict()
    )
    for status in (Status.RUNNING, Status.SCORING):
        submission.move_to(status)
    score = {
        "version": 1,
        "protocol": "original",
        "headline": "top1",
        "metrics": {"top1": top1, "top5": 0.99},
        "intervals": {"top1": [top1 - 0.01, top1 + 0.01]},
        "counts": {"scored": 10_000},
        "summaries": {},
        "curves": {},
        "correct": None,
        "slices": {},
    }
    Result.objects.store(submission, {"original": score})
    submission.move_to(Status.DONE)
    return submission


@pytest.fixture
def in_process():
    """The WSGI app keeps the test's database connection, as Django's own test client arranges: left
    connected, Django would close it at the end of each request, inside the test's transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def api_schema(in_process, cifar10, alice, bob):
    finished(cifar10, bob, "Bob's ResNet", 0.8320)
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def alices(cifar10, alice) -> dict[str, object]:
    """Her finished submission (to read) and a queued one (to cancel): the objects the paths name."""
    finished(cifar10, alice, "Alice's ResNet", 0.8103)
    queued = Submission.objects.create(owner=alice, testset=cifar10, name="queued", preprocessing=Recipe().to_dict())
    return {"name": cifar10.name, "id": queued.pk}


def alice_token() -> str:
    """The token as an operator or a script gets one: the last line of `manage.py ensure_user`."""
    out = io.StringIO()
    call_command("ensure_user", "alice", "--password", "password", stdout=out)
    return re.fullmatch(r"API token (\S+)", out.getvalue().strip().splitlines()[-1]).group(1)


def failures(schema, headers: dict, known: dict[str, object]) -> list[str]:
    """Runs every operation with valid and invalid requests, and, where its path names an object, with valid
    requests about the objects in `known` (path parameter -> value): random ids and names are only ever 404s.
    Returns what failed, one line each.

    schemathesis's own pytest plugin cannot run under this pytest (it sets Node._nodeid, which pytest 9
    no longer has), so this drives its generation and checks with hypothesis directly."""
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        runs = [("positive", {"generation_mode": GenerationMode.POSITIVE})]
        runs.append(("negative", {"generation_mode": GenerationMode.NEGATIVE}))
        named = re.findall(r"{(\w+)}", operation.path)
        if named:
            runs.append(("known objects", {"path_parameters": {name: known[name] for name in named}}))
        for label, strategy in runs:

            @hypothesis.given(case=operation.as_strategy(**strategy))
            @BOUNDED
            def run(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                pass  # no invalid value exists for this operation's parameters (any string is a test set name)
            except (FailureGroup, Exception) as error:  # FailureGroup is a BaseExceptionGroup: name it
                found.append(f"{operation.label} ({label}): {error}")
    return found


def test_the_api_answers_anonymous_visitors_as_its_schema_says(api_schema, alices):
    found = failures(api_schema, {}, alices)
    assert not found, "\n\n".join(found)


def test_the_api_answers_a_signed_in_submitter_as_its_schema_says(api_schema, alices):
    found = failures(api_schema, {"Authorization": f"Token {alice_token()}"}, alices)
    assert not found, "\n\n".join(found)

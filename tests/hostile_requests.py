"""The hostile corpus at the HTTP level: requests that are not plain submissions (absurd pagination, a body that
lies about its size, JSON nested 100,000 deep, NaN in a JSON body, wrong methods, unknown paths), each with
the exact status and sentence it gets. tests/test_hostile_submissions.py sends them all."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

GIB = 2**30
MB = 2**20
SUBMISSIONS = "/api/submissions/"
MULTIPART = "multipart/form-data; boundary=hostile"


@dataclass(frozen=True)
class Request:
    name: str
    method: str
    path: str
    status: int
    error: str  # the whole sentence, or its start where it ends in ": " and the rest quotes a library
    body: bytes | Callable[[], bytes] = b""
    content_type: str = "application/json"
    claimed_length: int | None = None  # a Content-Length header larger than the body actually sent
    signed_in: bool = True

    def matches(self, message: str) -> bool:
        return message.startswith(self.error) if self.error.endswith(": ") else message == self.error

    def payload(self) -> bytes:
        return self.body() if callable(self.body) else self.body


def submission_json(**fields) -> bytes:
    """A JSON submission; allow_nan keeps NaN and Infinity as the bare words a hostile client sends."""
    return json.dumps({"testset": "cifar10", "model_identifier": "timm:resnet18", **fields}).encode()


def form_field(name: str, value: str) -> bytes:
    return f'--hostile\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n--hostile--\r\n'.encode()


def limit_error(value: str) -> str:
    return f"limit must be a whole number from 1 to 200, not {value!r}"


NOT_ALLOWED = 'Method "{}" not allowed.'

REQUESTS = [
    Request(
        "a limit of 2^64 - 1",
        "GET",
        SUBMISSIONS + "?limit=18446744073709551615",
        400,
        limit_error("18446744073709551615"),
    ),
    Request(
        "a limit of 2^64 - 1 on test sets",
        "GET",
        "/api/testsets/?limit=18446744073709551615",
        400,
        limit_error("18446744073709551615"),
    ),
    Request("a negative limit", "GET", SUBMISSIONS + "?limit=-1", 400, limit_error("-1")),
    Request("a limit of zero", "GET", SUBMISSIONS + "?limit=0", 400, limit_error("0")),
    Request("a limit over the maximum", "GET", SUBMISSIONS + "?limit=201", 400, limit_error("201")),
    Request("a limit that is not a number", "GET", SUBMISSIONS + "?limit=all", 400, limit_error("all")),
    Request(
        "a negative offset",
        "GET",
        "/api/testsets/?offset=-5",
        400,
        "offset must be a whole number of at least 0, not '-5'",
    ),
    Request(
        "an offset of 5,000 digits",
        "GET",
        SUBMISSIONS + "?offset=" + "9" * 5000,
        400,
        "offset must be a whole number of at least 0, not '" + "9" * 40 + "…'",
    ),
    Request(
        "a Content-Length of 2 GiB, then a few bytes",
        "POST",
        SUBMISSIONS,
        413,
        "the request is 2,048 MB; a model file may be at most 500 MB (ZOOBOARD_MAX_UPLOAD_MB)",
        body=form_field("testset", "cifar10"),
        content_type=MULTIPART,
        claimed_length=2 * GIB,
    ),
    Request(
        "a JSON body nested 100,000 levels deep",
        "POST",
        SUBMISSIONS,
        400,
        "the request body's JSON is nested too deeply to read",
        body=b"[" * 100_000,
    ),
    Request(
        "JSON preprocessing nested 100,000 levels deep",
        "POST",
        SUBMISSIONS,
        400,
        "the request body's JSON is nested too deeply to read",
        body=lambda: submission_json()[:-1] + b', "preprocessing": ' + b"[" * 100_000 + b"}",
    ),
    Request(
        "a NaN mean in a JSON body",
        "POST",
        SUBMISSIONS,
        400,
        "every mean value must be a finite number, not [nan, nan, nan]",
        body=submission_json(preprocessing={"mean": [float("nan")] * 3}),
    ),
    Request(
        "an infinite std in a JSON body",
        "POST",
        SUBMISSIONS,
        400,
        "every std value must be a finite number, not [0.2, -inf, 0.2]",
        body=submission_json(preprocessing={"std": [0.2, float("-inf"), 0.2]}),
    ),
    Request(
        "a mean of 1e999 in a JSON body",
        "POST",
        SUBMISSIONS,
        400,
        "every mean value must be a finite number, not [inf, 0.0, 0.0]",
        body=submission_json()[:-1] + b', "preprocessing": {"mean": [1e999, 0, 0]}}',
    ),
    Request(
        "JSON preprocessing given as a string with NaN in it",
        "POST",
        SUBMISSIONS,
        400,
        "every mean value must be a finite number, not [nan, nan, nan]",
        body=submission_json(preprocessing='{"mean": [NaN, NaN, NaN]}'),
    ),
    Request(
        "a JSON body that is not UTF-8",
        "POST",
        SUBMISSIONS,
        400,
        "the request body is not valid JSON: ",
        body=b'{"testset": "\xff\xfe"}',
    ),
    Request(
        "a JSON body that is a list",
        "POST",
        SUBMISSIONS,
        400,
        "Invalid data. Expected a dictionary, but got list.",
        body=b'["cifar10"]',
    ),
    Request(
        "a JSON body over 10 MB",
        "POST",
        SUBMISSIONS,
        413,
        "the request's fields are over 10 MB; only the model file may be larger",
        body=lambda: submission_json(description="x" * (10 * MB)),
    ),
    Request(
        "a form field over 10 MB",
        "POST",
        SUBMISSIONS,
        413,
        "the request's fields are over 10 MB; only the model file may be larger",
        body=lambda: form_field("description", "x" * (10 * MB + 1)),
        content_type=MULTIPART,
    ),
    Request(
        "a multipart body without a boundary",
        "POST",
        SUBMISSIONS,
        400,
        "the multipart form could not be read: ",
        body=form_field("testset", "cifar10"),
        content_type="multipart/form-data",
    ),
    Request(
        "a body of an unsupported type",
        "POST",
        SUBMISSIONS,
        415,
        'Unsupported media type "application/xml" in request.',
        body=b"<submission/>",
        content_type="application/xml",
    ),
    Request("DELETE on a test set", "DELETE", "/api/testsets/cifar10/", 405, NOT_ALLOWED.format("DELETE")),
    Request("PUT on the submissions", "PUT", SUBMISSIONS, 405, NOT_ALLOWED.format("PUT")),
    Request(
        "an unknown API path",
        "GET",
        "/api/v2/submissions/",
        404,
        "there is no API endpoint at /api/v2/submissions/; the API is described at /api/docs/",
    ),
    Request("an unknown submission", "GET", SUBMISSIONS + "999999/", 404, "No Submission matches the given query."),
    Request(
        "a status filter that is not a status",
        "GET",
        SUBMISSIONS + "?status=pwned",
        400,
        "status: Select a valid choice. pwned is not one of the available choices.",
    ),
    Request(
        "a NUL character in a test set's name",
        "GET",
        "/api/testsets/%00/",
        400,
        "the address contains a NUL character (%00)",
    ),
    Request(
        "a NUL character in a query parameter",
        "GET",
        "/api/testsets/cifar10/leaderboard/?label_set=orig%00inal",
        400,
        "the address contains a NUL character (%00)",
    ),
    Request(
        "a NUL character as the test set of a JSON submission",
        "POST",
        SUBMISSIONS,
        400,
        "testset: Null characters are not allowed.",
        body=submission_json(testset="\u0000"),
    ),
    Request(
        "a test set that does not exist",
        "POST",
        SUBMISSIONS,
        400,
        "testset: no test set is named 'imagenet-21k'",
        body=submission_json(testset="imagenet-21k"),
    ),
    Request(
        "1,200 query parameters",
        "GET",
        SUBMISSIONS + "?" + "&".join(f"p{number}=1" for number in range(1200)),
        400,
        "the request has too many fields or files",
    ),
    Request(
        "a submission without credentials",
        "POST",
        SUBMISSIONS,
        401,
        "Authentication credentials were not provided.",
        body=submission_json(),
        signed_in=False,
    ),
]

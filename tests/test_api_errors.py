"""Errors outside the submission checks: Django's own, the upload limit and a database outage answer
{"error": ...} with their status under /api/ and a page of their own elsewhere, never a traceback."""

from __future__ import annotations

import json
import socket

import pytest
from django.db import connection
from django.test import Client
from django.test.client import FakePayload

from leaderboard.api.errors import server_error
from leaderboard.models import Submission


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_down(transactional_db, django_db_blocker):
    """For the test's requests, the site's database connection points at a closed port: every query is refused.
    Calling the fixture's value brings the database back.

    transactional_db, not db: no test transaction holds the connection that is closed and pointed elsewhere."""
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}

    def bring_back():
        connection.close()
        connection.settings_dict.update(saved)

    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=closed_port())
    with django_db_blocker.unblock():
        yield bring_back
        bring_back()


def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/nowhere/")
    assert response.status_code == 404
    assert response.json() == {"error": "there is no API endpoint at /api/nowhere/; the API is described at /api/docs/"}


def test_an_unknown_page_is_still_an_html_404(client):
    response = client.get("/nowhere/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_forged_host_header_on_the_api_is_a_json_400(client):
    response = client.get("/api/testsets/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json() == {"error": "the request is malformed and was refused"}


def test_an_internal_error_on_the_api_is_json_with_an_id_for_the_operators(rf, caplog):
    try:
        raise RuntimeError("a bug")
    except RuntimeError:  # Django calls handler500 inside its own except block, as here
        response = server_error(rf.get("/api/testsets/"))
    assert response.status_code == 500
    message = json.loads(response.content)["error"]
    assert message.startswith("internal error, the operators were told (id ")
    error_id = message.removeprefix("internal error, the operators were told (id ").removesuffix(")")
    assert error_id in caplog.text


def test_an_internal_error_on_a_page_is_django_s_html_500(rf):
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_error(rf.get("/testsets/cifar10/"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_an_upload_over_the_limit_is_refused_from_its_content_length_without_reading_the_body(
    cifar10, alice, api_as, settings
):
    body = FakePayload(b"--x\r\n")  # the rest of the claimed 2 GiB never comes
    response = api_as(alice).post(
        "/api/submissions/",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(2**31),
        **{"wsgi.input": body},
    )
    assert response.status_code == 413
    assert response.json() == {
        "error": "the request is 2,048 MB; a model file may be at most 500 MB (ZOOBOARD_MAX_UPLOAD_MB)"
    }
    assert not body.read_started
    assert not Submission.objects.exists() and not settings.MEDIA_ROOT.exists()


def test_the_upload_limit_follows_the_setting_and_leaves_room_for_the_form_fields(cifar10, alice, api_as, settings):
    settings.ZOOBOARD_MAX_UPLOAD_MB = 1
    over = 2**20 + settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    response = api_as(alice).generic("POST", "/api/submissions/", b"{}", "application/json", CONTENT_LENGTH=str(over))
    assert response.status_code == 413
    assert response.json()["error"] == "the request is 11 MB; a model file may be at most 1 MB (ZOOBOARD_MAX_UPLOAD_MB)"
    just_under = api_as(alice).generic("POST", "/api/submissions/", b"{}", "application/json")
    assert just_under.status_code == 400  # through to the serializer: the testset is missing


def test_the_upload_limit_on_the_submit_page_is_a_page(client, alice):
    client.force_login(alice)
    body = FakePayload(b"--x\r\n")
    response = client.post(
        "/submit/",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(2**31),
        **{"wsgi.input": body},
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "The request is 2,048 MB; a model file may be at most 500 MB (ZOOBOARD_MAX_UPLOAD_MB)." in response.text
    assert not body.read_started


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/testsets/"), ("get", "/api/submissions/1/"), ("get", "/api/testsets/cifar10/leaderboard/")],
)
def test_the_api_answers_503_with_retry_after_while_the_database_is_down(database_down, method, path):
    response = getattr(Client(raise_request_exception=False), method)(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {"error": "the site's database is unavailable for a moment; try again in 30 seconds"}


def test_a_signed_in_submission_answers_503_while_the_database_is_down(database_down):
    api = Client(raise_request_exception=False, HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = api.post("/api/submissions/", {"testset": "cifar10", "model_identifier": "timm:resnet18"})
    assert response.status_code == 503
    assert response.json()["error"].startswith("the site's database is unavailable")


@pytest.mark.parametrize("path", ["/", "/testsets/cifar10/", "/submissions/1/"])
def test_pages_answer_a_plain_503_page_while_the_database_is_down(database_down, path):
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    assert "The site&#x27;s database is unavailable for a moment; try again in 30 seconds." in response.text
    assert "Traceback" not in response.text


def test_the_site_answers_again_once_the_database_is_back(database_down):
    client = Client(raise_request_exception=False)
    assert client.get("/api/testsets/").status_code == 503
    database_down()
    assert client.get("/api/testsets/").status_code == 200

"""A 2 GiB upload against real gunicorn: refused from its Content-Length at once, nothing written anywhere.

The request goes over a raw socket so that it can claim 2 GiB and send a few bytes: the 413 must come back
while the rest of the body is still "on its way", and neither the media folder nor the temporary folder that
Django streams uploads into receives a byte.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.request
import uuid

import pytest

from tests.integration.conftest import free_port, require_services
from tests.integration.processes import Gunicorn

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

GIB = 2**30
SENTENCE = "the request is 2,048 MB; a model file may be at most 500 MB (ZOOBOARD_MAX_UPLOAD_MB)"


@pytest.fixture(scope="module")
def server(django_db_setup, data_dir, tmp_path_factory):
    """gunicorn on the test database, with its own media and temporary folders to watch."""
    require_services()
    scratch = tmp_path_factory.mktemp("upload-limit")
    uploads_tmp = scratch / "tmp"
    uploads_tmp.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(uploads_tmp))  # where TemporaryFileUploadHandler would stream the body
        process = Gunicorn(f"test-{uuid.uuid4().hex[:10]}", scratch, data_dir, free_port())
    yield process, [scratch / "media", uploads_tmp]
    process.stop()


def send_claiming(url: str, path: str, claimed: int, first_bytes: bytes) -> tuple[int, dict, bytes, float]:
    """Sends headers that claim `claimed` bytes of body, then only first_bytes, and keeps the connection open;
    returns (status, headers, body, seconds until the whole answer was in)."""
    host, port = url.removeprefix("http://").split(":")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {claimed}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=15) as connection:
        connection.sendall(head + first_bytes)
        answer = http.client.HTTPResponse(connection)  # reads the status, headers and (chunked) body
        answer.begin()
        body = answer.read()
    elapsed = time.monotonic() - started
    return answer.status, {name.lower(): value for name, value in answer.getheaders()}, body, elapsed


FIRST_BYTES = b'--x\r\nContent-Disposition: form-data; name="model_file"; filename="big.onnx"\r\n\r\n' + b"\0" * 64


def test_a_2_gib_api_upload_is_refused_at_once_and_nothing_is_written(server):
    process, folders = server
    status, headers, body, elapsed = send_claiming(process.url, "/api/submissions/", 2 * GIB, FIRST_BYTES)
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"error": SENTENCE}
    assert elapsed < 5, f"the answer took {elapsed:.1f} s: the server waited for the body"
    assert [path for folder in folders if folder.exists() for path in folder.rglob("*")] == []


def test_a_2_gib_upload_through_the_submit_page_gets_a_page(server):
    process, folders = server
    status, headers, body, elapsed = send_claiming(process.url, "/submit/", 2 * GIB, FIRST_BYTES)
    assert status == 413
    assert headers["content-type"].startswith("text/html")
    assert SENTENCE[0].upper() + SENTENCE[1:] + "." in body.decode()
    assert elapsed < 5
    assert [path for folder in folders if folder.exists() for path in folder.rglob("*")] == []


def test_the_server_goes_on_answering_after_refusing(server):
    process, _ = server
    send_claiming(process.url, "/api/submissions/", 2 * GIB, FIRST_BYTES)
    with urllib.request.urlopen(process.url + "/api/testsets/", timeout=10) as response:
        assert response.status == 200

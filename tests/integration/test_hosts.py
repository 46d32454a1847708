"""Scale-out for real: the site and two worker hosts, each host a network namespace with its own address and its
own read-only copy of the hidden test sets, reaching PostgreSQL and the broker over that address only, the
uploads and the stored predictions in an S3-compatible object store. Ten distinct models are each evaluated
exactly once, both hosts take work, and when a host's worker is killed in the middle of an evaluation the other
host finishes it. On Redis and on RabbitMQ."""

from __future__ import annotations

import uuid

import httpx
import onnx
import pytest
from django.db import connection

from leaderboard.models import ApiToken, Status, Submission
from tests.integration import hosts
from tests.integration.conftest import free_port, require_services
from tests.integration.helpers import FAST_RECOVERY, finished, mid_run, wait_for
from tests.integration.processes import Gunicorn, Worker, database_url
from tests.object_store import ObjectStore

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BROKERS = {
    "redis": ("redis://{address}:6379/3", 6379),
    "rabbitmq": ("amqp://guest:guest@{address}:5672//", 5672),
}
HOST_NAMES = ("host-a", "host-b")


@pytest.fixture(params=list(BROKERS))
def cluster(request, django_db_setup, data_dir, tmp_path, alice, cifar10):
    """The site (gunicorn) and two worker hosts on one broker; yields (site, {host name: (Host, Worker)}, store,
    token, queue)."""
    require_services()
    why = hosts.missing()
    if why is None and not hosts.answers("127.0.0.1", BROKERS[request.param][1]):
        why = f"{request.param} does not answer on 127.0.0.1:{BROKERS[request.param][1]}"
    if why is not None:
        require_hosts(why)
    broker, broker_port = BROKERS[request.param]
    queue = f"hosts-{uuid.uuid4().hex[:8]}"
    network = hosts.Network(tmp_path)
    started = []
    try:
        store = ObjectStore(tmp_path, free_port(), f"zooboard-{uuid.uuid4().hex[:8]}")
        started.append(store)
        database = database_url().replace("@127.0.0.1:", "@{address}:").replace("@localhost:", "@{address}:")
        workers = {}
        for name in HOST_NAMES:
            host = network.add_host(name, data_dir)
            for port in (5432, broker_port):
                network.relay(host, port)
            env = {
                **FAST_RECOVERY,
                **store.env(host.gateway),
                "DATABASE_URL": database.format(address=host.gateway),
                "CELERY_BROKER_URL": broker.format(address=host.gateway),
                "ZOOBOARD_DATA_DIR": str(host.data_dir),  # read-only: the decoded pixels go to its own var folder
                "ZOOBOARD_MEDIA_DIR": str(host.folder / "no-media"),  # never used: uploads are in the store
            }
            worker = Worker(queue, host.folder, host.data_dir, env, log_name=f"worker-{name}", prefix=host.prefix())
            started.append(worker)
            workers[name] = (host, worker)
        site_env = {
            **store.env("127.0.0.1"),
            "CELERY_BROKER_URL": broker.format(address="127.0.0.1"),
            # ten at once from one submitter: the quotas are tested elsewhere
            **{"ZOOBOARD_MAX_IN_FLIGHT": "100", "ZOOBOARD_DAILY_QUOTA": "100", "ZOOBOARD_API_RATE_SUBMIT": "1000/hour"},
        }
        site = Gunicorn(queue, tmp_path / "site", data_dir, free_port(), site_env)
        started.append(site)
        _, token = ApiToken.objects.create(user=alice, name="hosts test")
        yield site, workers, store, token, queue
    finally:
        for process in reversed(started):
            if process.is_alive():
                process.stop()
        network.remove()


def require_hosts(why: str) -> None:
    import os

    if os.environ.get("ZOOBOARD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"ZOOBOARD_REQUIRE_SERVICES=1 but {why}")
    pytest.skip(why)


def distinct_copy(model, folder, name: str):
    """The same network under another name in its metadata: another file, so not a duplicate."""
    copy = onnx.load(str(model))
    copy.doc_string = name
    path = folder / f"{uuid.uuid4().hex}.onnx"
    onnx.save(copy, path)
    return path


def submit(site, token: str, path, name: str) -> int:
    with open(path, "rb") as handle:
        response = httpx.post(
            f"{site.url}/api/submissions/",
            data={"testset": "cifar10", "name": name},
            files={"model_file": ("model.onnx", handle, "application/octet-stream")},
            headers={"Authorization": f"Token {token}"},
            timeout=60,
        )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def host_of(submission: Submission) -> str:
    return submission.worker.split(":", 1)[0]


def test_two_hosts_evaluate_ten_models_once_and_finish_what_a_killed_host_began(cluster, model_path, tmp_path):
    site, workers, store, token, _ = cluster
    for name, (host, _) in workers.items():
        # the host reaches PostgreSQL at its own gateway address, and nothing at its own loopback
        assert hosts.answers(host.gateway, 5432, host.namespace)
        assert not hosts.answers("127.0.0.1", 5432, host.namespace), f"{name} reaches this machine's loopback"

    quick = [
        submit(site, token, distinct_copy(model_path("resnet8"), tmp_path, f"ResNet-8 #{n}"), f"ResNet-8 #{n}")
        for n in range(9)
    ]
    done = [finished(pk) for pk in quick]
    assert [s.status for s in done] == [Status.DONE] * 9, [s.error_message for s in done]
    assert {host_of(s) for s in done} == set(HOST_NAMES), "both hosts take work"

    slow = submit(site, token, distinct_copy(model_path("resnet20"), tmp_path, "ResNet20"), "ResNet20")
    running = mid_run(slow)
    first_host = host_of(running)
    workers[first_host][1].kill()  # SIGKILL, in the middle of its batches: the host is lost
    other_host = next(name for name in HOST_NAMES if name != first_host)
    recovered = wait_for(slow, lambda s: s.is_finished, 240)
    assert recovered.status == Status.DONE, recovered.error_message
    assert host_of(recovered) == other_host and recovered.attempts == 2

    label_sets = set(recovered.testset.label_sets.filter(is_current=True).values_list("pk", flat=True))
    for submission in [*done, recovered]:
        submission.refresh_from_db()
        # exactly once: one attempt stored one result per label set
        assert submission.attempts == (2 if submission.pk == slow else 1)
        results = list(submission.results.values_list("label_set_id", "attempt"))
        assert sorted(pk for pk, _ in results) == sorted(label_sets)
        assert {attempt for _, attempt in results} == {submission.attempts}
    # the uploads and every submission's predictions are in the object store, nowhere on the hosts
    assert store.names("predictions/") == sorted(f"predictions/{s.pk}.npz" for s in [*done, recovered])
    assert len(store.names("uploads/")) == 10
    for host, _ in workers.values():
        assert not any(path.suffix == ".npz" and "predictions" in str(path) for path in host.folder.rglob("*"))
        # each host decoded the test set once, into its own var folder (its copy of the test set is read-only)
        assert len(list((host.folder / "var" / "pixel-cache" / "cifar10").glob("*.u8"))) == 1
    connection.close()

"""Fair use: the daily quota per user and test set, the cap on evaluations in flight, duplicates, staff
exemption, and all of it holding under 20 concurrent submits from one user."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import onnx
import pytest
from django.core.management import CommandError, call_command
from django.db import DataError, connection
from django.utils import timezone
from rich.console import Console

from client import cli
from leaderboard.models import Status, Submission, TestSet
from leaderboard.quotas import SubmissionRefused, check_duplicate
from leaderboard.submitting import create_submission
from plugins.contracts import ModelSource
from tests import onnx_models
from tests.conftest import run_python


@pytest.fixture(autouse=True)
def generous_quotas(settings):
    """Overrides tests/conftest.py's generous limits: this module tests the real ones, config/settings.py's
    defaults (checked on their own below)."""
    settings.ZOOBOARD_DAILY_QUOTA, settings.ZOOBOARD_MAX_IN_FLIGHT = 5, 2


def tiny_model(folder, weight: float):
    """A valid 10-class ONNX model; each weight gives a different file (and hash)."""
    path = folder / f"tiny-{weight}.onnx"
    onnx.save(onnx_models.pooled_linear(weight_fill=weight), path)
    return path


def post(api, path, **fields):
    with open(path, "rb") as handle:
        body = {"testset": "cifar10", "model_file": handle, "name": "tiny", **fields}
        return api.post("/api/submissions/", body, format="multipart")


def earlier(owner, testset, hours_ago: float = 1.0, status=Status.DONE, **fields) -> Submission:
    """A submission made hours_ago, in the given status (its own file hash, so never a duplicate)."""
    fields.setdefault("model_sha256", uuid.uuid4().hex)
    submission = Submission.objects.create(
        owner=owner, testset=testset, name="earlier", preprocessing={}, status=status, **fields
    )
    Submission.objects.filter(pk=submission.pk).update(created_at=timezone.now() - timedelta(hours=hours_ago))
    submission.refresh_from_db()
    return submission


def media_files(settings) -> list:
    return [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()] if settings.MEDIA_ROOT.exists() else []


def test_the_defaults_are_5_a_day_and_2_in_flight():
    done = run_python("-c", "from config import settings as s; print(s.ZOOBOARD_DAILY_QUOTA, s.ZOOBOARD_MAX_IN_FLIGHT)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["5", "2"]


def test_the_sixth_submission_of_a_day_is_refused_with_429_and_the_reset_time(
    cifar10, alice, api_as, tmp_path, settings
):
    settings.ZOOBOARD_MAX_IN_FLIGHT = 100  # the daily quota alone
    api = api_as(alice)
    for index in range(5):
        assert post(api, tiny_model(tmp_path, 0.01 * (index + 1))).status_code == 201
    for hours_ago, submission in zip([23, 22, 21, 20, 19], Submission.objects.order_by("pk"), strict=True):
        Submission.objects.filter(pk=submission.pk).update(created_at=timezone.now() - timedelta(hours=hours_ago))
    oldest = Submission.objects.order_by("created_at").first().created_at

    response = post(api, tiny_model(tmp_path, 0.5))

    assert response.status_code == 429
    frees_at = oldest + timedelta(hours=24)
    assert abs(int(response["Retry-After"]) - (frees_at - timezone.now()).total_seconds()) <= 2
    assert abs(int(response["Retry-After"]) - 3600) <= 2
    assert response.json() == {
        "error": "you have used your quota of 5 submissions to cifar10 in 24 hours (failed ones count): the next "
        f"is possible in 59 minutes, at {frees_at:%Y-%m-%d %H:%M:%S} UTC"
    }
    assert Submission.objects.count() == 5 and len(media_files(settings)) == 5


def test_a_failed_submission_counts(cifar10, alice, api_as, tmp_path):
    for _ in range(4):
        earlier(alice, cifar10)
    earlier(alice, cifar10, status=Status.FAILED, error_message="the model's output contains NaN")
    assert post(api_as(alice), tiny_model(tmp_path, 0.1)).status_code == 429


def test_a_submission_older_than_24_hours_does_not_count(cifar10, alice, api_as, tmp_path):
    for _ in range(4):
        earlier(alice, cifar10, hours_ago=23.9)
    earlier(alice, cifar10, hours_ago=24.01)
    response = post(api_as(alice), tiny_model(tmp_path, 0.1))
    assert response.status_code == 201, response.json()
    second_oldest = Submission.objects.filter(name="earlier").order_by("created_at")[1].created_at
    assert response.json()["quota"]["testsets"] == [
        {"testset": "cifar10", "daily_quota": 5, "used": 5, "remaining": 0, "resets_at": api_time(second_oldest)}
    ]


def api_time(created_at: datetime) -> str:
    """When a submission made at created_at leaves the window, as the API writes times."""
    return (created_at + timedelta(hours=24)).astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(("started", "counts"), [(False, False), (True, True)], ids=["queued", "running"])
def test_a_cancelled_submission_counts_only_if_a_worker_started_it(started, counts, cifar10, alice, api_as, tmp_path):
    for _ in range(4):
        earlier(alice, cifar10)
    earlier(alice, cifar10, status=Status.CANCELLED, started_at=timezone.now() if started else None)
    response = post(api_as(alice), tiny_model(tmp_path, 0.1))
    assert response.status_code == (429 if counts else 201)


def test_the_test_sets_own_quota_is_honoured(cifar10, alice, bob, api_as, tmp_path):
    TestSet.objects.filter(pk=cifar10.pk).update(daily_quota=2)
    earlier(alice, cifar10)
    assert post(api_as(alice), tiny_model(tmp_path, 0.1)).status_code == 201
    response = post(api_as(alice), tiny_model(tmp_path, 0.2))
    assert response.status_code == 429
    assert response.json()["error"].startswith("you have used your quota of 2 submissions to cifar10 in 24 hours")
    assert post(api_as(bob), tiny_model(tmp_path, 0.2)).status_code == 201  # per user


def test_staff_set_a_test_sets_quota_in_the_admin(cifar10, staff, client):
    client.force_login(staff)
    page = client.get(f"/admin/leaderboard/testset/{cifar10.pk}/change/").content.decode()
    assert 'name="daily_quota"' in page


def test_a_quota_of_0_closes_the_test_set(cifar10, alice, api_as, tmp_path):
    TestSet.objects.filter(pk=cifar10.pk).update(daily_quota=0)
    response = post(api_as(alice), tiny_model(tmp_path, 0.1))
    assert response.status_code == 403
    assert response.json() == {"error": "cifar10 takes no submissions at the moment (its daily quota is 0)"}


def other_testset() -> TestSet:
    return TestSet.objects.create(
        name="other", title="Other", reader="cifar10", class_names=list("abcdefghij"), num_examples=10, data_path="x"
    )


@pytest.mark.parametrize("status", [Status.QUEUED, Status.RUNNING, Status.SCORING])
def test_the_in_flight_cap_counts_every_test_set(status, cifar10, alice, api_as, tmp_path):
    other = other_testset()
    earlier(alice, other, status=Status.QUEUED)
    earlier(alice, other, status=status, started_at=timezone.now())
    response = post(api_as(alice), tiny_model(tmp_path, 0.1))
    assert response.status_code == 429
    assert response.json()["error"].startswith(
        "you have 2 evaluations queued or running, the most allowed at once: submit again when one of them ends"
    )
    assert int(response["Retry-After"]) >= 10


def test_a_finished_evaluation_frees_its_place(cifar10, alice, api_as, tmp_path):
    earlier(alice, cifar10, status=Status.QUEUED)
    earlier(alice, cifar10, status=Status.FAILED)
    assert post(api_as(alice), tiny_model(tmp_path, 0.1)).status_code == 201


def test_the_in_flight_wait_is_the_typical_run_less_what_has_run(cifar10, alice, bob, api_as, tmp_path):
    now = timezone.now()
    for minutes_ago in (10, 20, 30):  # others' evaluations of 300 s each
        start = now - timedelta(minutes=minutes_ago)
        earlier(bob, cifar10, started_at=start, finished_at=start + timedelta(seconds=300))
    earlier(alice, cifar10, status=Status.RUNNING, started_at=now - timedelta(seconds=100))
    earlier(alice, cifar10, status=Status.QUEUED)
    response = post(api_as(alice), tiny_model(tmp_path, 0.1))
    assert response.status_code == 429
    assert abs(int(response["Retry-After"]) - 200) <= 2
    assert response.json()["error"].endswith("in about 4 minutes")


def test_a_duplicate_is_refused_with_a_link_to_the_earlier_submission(cifar10, alice, api_as, tmp_path, settings):
    path = tiny_model(tmp_path, 0.1)
    first = post(api_as(alice), path).json()["id"]
    response = post(api_as(alice), path, name="the same again")
    assert response.status_code == 409
    assert response.json() == {
        "error": f"you already submitted this model with the same preprocessing to cifar10: "
        f"http://testserver/submissions/{first}/"
    }
    assert Submission.objects.count() == 1 and len(media_files(settings)) == 1
    other_recipe = post(api_as(alice), path, preprocessing='{"interpolation": "bicubic"}')
    assert other_recipe.status_code == 201  # another recipe is another evaluation


def test_a_duplicate_of_a_failed_one_says_so_and_a_cancelled_one_is_no_duplicate(cifar10, alice, api_as, tmp_path):
    path = tiny_model(tmp_path, 0.1)
    first = post(api_as(alice), path).json()["id"]
    Submission.objects.filter(pk=first).update(status=Status.CANCELLED)
    second = post(api_as(alice), path)
    assert second.status_code == 201
    Submission.objects.filter(pk=second.json()["id"]).update(status=Status.FAILED)
    error = post(api_as(alice), path).json()["error"]
    assert error.startswith("you already submitted this model with the same preprocessing to cifar10 and it failed")
    assert error.endswith(f"/submissions/{second.json()['id']}/")


def test_anothers_submission_is_named_only_once_public_and_done(cifar10, alice, bob, api_as, tmp_path):
    path = tiny_model(tmp_path, 0.1)
    alices = post(api_as(alice), path).json()["id"]
    for status, hidden in [(Status.QUEUED, False), (Status.FAILED, False), (Status.DONE, True)]:
        Submission.objects.filter(pk=alices).update(status=status, hidden=hidden)
        bobs = post(api_as(bob), path)
        assert bobs.status_code == 201, (status, hidden)  # nothing about alice's is revealed
        Submission.objects.filter(pk=bobs.json()["id"]).delete()
    Submission.objects.filter(pk=alices).update(status=Status.DONE, hidden=False)
    response = post(api_as(bob), path)
    assert response.status_code == 409
    assert response.json() == {
        "error": "the same model with the same preprocessing is already on the cifar10 leaderboard: "
        f"http://testserver/submissions/{alices}/"
    }


def test_an_identifier_only_model_is_a_duplicate_by_its_identifier(cifar10, alice):
    recipe = {"input_size": 32}
    earlier(alice, cifar10, model_format="timm", model_identifier="timm:resnet18.a1_in1k", model_sha256="")
    Submission.objects.update(preprocessing=recipe)
    again = Submission(
        owner=alice,
        testset=cifar10,
        model_format="timm",
        model_identifier="timm:resnet18.a1_in1k",
        preprocessing=recipe,
    )
    with pytest.raises(SubmissionRefused) as refused:
        check_duplicate(again)
    assert refused.value.status == 409
    again.model_identifier = "timm:resnet34.a1_in1k"
    check_duplicate(again)  # another architecture is another model


def test_staff_are_exempt_from_the_quota_and_the_cap(cifar10, staff, api_as, tmp_path):
    for _ in range(5):
        earlier(staff, cifar10)
    earlier(staff, cifar10, status=Status.QUEUED)
    earlier(staff, cifar10, status=Status.RUNNING, started_at=timezone.now())
    response = post(api_as(staff), tiny_model(tmp_path, 0.1))
    assert response.status_code == 201, response.json()
    assert response.json()["quota"]["exempt"] is True
    assert response.json()["quota"]["max_in_flight"] is None


def test_manage_py_submit_says_the_same_sentence(cifar10, alice, staff, tmp_path):
    for _ in range(5):
        earlier(alice, cifar10)
        earlier(staff, cifar10)
    with pytest.raises(CommandError) as refused:
        call_command("submit", str(tiny_model(tmp_path, 0.1)), user="alice", testset="cifar10", name="x")
    assert "cannot submit" in str(refused.value)
    assert "you have used your quota of 5 submissions to cifar10 in 24 hours (failed ones count)" in str(refused.value)
    for index in range(3):  # as `make demo` does: staff, more than the cap in flight
        call_command("submit", str(tiny_model(tmp_path, 0.2 + index / 10)), user="staff", testset="cifar10", name="x")
    assert staff.submissions.filter(status=Status.QUEUED).count() == 3


def test_the_quota_endpoint_says_what_is_left_and_when_it_frees(cifar10, alice, api_as, client):
    oldest = earlier(alice, cifar10, hours_ago=3)
    earlier(alice, cifar10, hours_ago=2, status=Status.FAILED)
    earlier(alice, cifar10, status=Status.QUEUED)
    response = api_as(alice).get("/api/submissions/quota/?testset=cifar10")
    assert response.status_code == 200
    assert response.json() == {
        "exempt": False,
        "in_flight": 1,
        "max_in_flight": 2,
        "testsets": [
            {
                "testset": "cifar10",
                "daily_quota": 5,
                "used": 3,
                "remaining": 2,
                "resets_at": api_time(oldest.created_at),
            }
        ],
    }
    assert api_as(alice).get("/api/submissions/quota.json?testset=cifar10").json() == response.json()
    other_testset()
    assert [row["testset"] for row in api_as(alice).get("/api/submissions/quota/").json()["testsets"]] == [
        "cifar10",
        "other",
    ]
    unknown = api_as(alice).get("/api/submissions/quota/?testset=mnist")
    assert unknown.status_code == 404 and unknown.json() == {"error": "no test set is named 'mnist'"}
    nul = api_as(alice).get("/api/submissions/quota/", {"testset": "a\x00b"})  # PostgreSQL refuses NUL in text
    assert nul.status_code in (400, 404) and "error" in nul.json()
    assert client.get("/api/submissions/quota/").status_code in (401, 403)


def test_the_submit_page_shows_the_quota_and_refuses_with_429(cifar10, alice, client, tmp_path):
    oldest = earlier(alice, cifar10, hours_ago=23.5)
    for _ in range(3):
        earlier(alice, cifar10)
    client.force_login(alice)
    page = client.get("/submit/").content.decode()
    frees_at = oldest.created_at + timedelta(hours=24)
    left = f"{cifar10.title}: 1 of 5 submissions left in the last 24 hours"
    assert f"{left}; the next slot frees at {frees_at:%Y-%m-%d %H:%M} UTC." in page
    assert "At most 2 of your evaluations may be queued or running at once" in page
    with open(tiny_model(tmp_path, 0.1), "rb") as handle:
        accepted = client.post("/submit/", {"testset": "cifar10", "model_file": handle, "name": "fifth"}, follow=True)
    assert f"fifth is queued for evaluation. {cifar10.title}: 0 of 5 submissions left" in accepted.content.decode()
    Submission.objects.filter(name="fifth").update(status=Status.DONE)
    with open(tiny_model(tmp_path, 0.2), "rb") as handle:
        response = client.post("/submit/", {"testset": "cifar10", "model_file": handle, "name": "sixth"})
    assert response.status_code == 429
    assert abs(int(response["Retry-After"]) - 1800) <= 2
    assert "you have used your quota of 5 submissions to cifar10 in 24 hours" in response.content.decode()
    assert not Submission.objects.filter(name="sixth").exists()


def test_the_submit_page_links_the_earlier_submission_of_a_duplicate(cifar10, alice, client, tmp_path):
    client.force_login(alice)
    path = tiny_model(tmp_path, 0.1)
    for _ in range(2):
        with open(path, "rb") as handle:
            response = client.post("/submit/", {"testset": "cifar10", "model_file": handle, "name": "x"})
    first = Submission.objects.get()
    assert response.status_code == 409
    assert f'<a href="/submissions/{first.pk}/">' in response.content.decode()


def test_the_cli_shows_the_quota_after_submitting_and_on_its_own(cifar10, alice, api_as, tmp_path, monkeypatch):
    rendered = Console(record=True, width=200)
    monkeypatch.setattr(cli, "console", rendered)
    oldest = earlier(alice, cifar10, hours_ago=20)
    created = post(api_as(alice), tiny_model(tmp_path, 0.1)).json()
    frees_at = (oldest.created_at + timedelta(hours=24)).astimezone(UTC)
    assert cli.quota_line(created["quota"]) == (
        f"quota on cifar10: 3 of 5 left in 24 hours, next slot {frees_at:%Y-%m-%d %H:%M} UTC; "
        "1 of 2 evaluations in flight"
    )
    assert cli.show_quota(api_as(alice).get("/api/submissions/quota/").json(), as_json=False) == 0
    text = rendered.export_text()
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines()]
    assert ["cifar10", "2", "3 of 5", f"{frees_at:%Y-%m-%d %H:%M} UTC"] in rows
    assert "1 of at most 2 evaluations in flight" in text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite stores a NUL character; PostgreSQL refuses it")
def test_a_row_the_database_refuses_leaves_no_file_behind(cifar10, alice, tmp_path, settings):
    source = ModelSource(tiny_model(tmp_path, 0.1))
    with pytest.raises(DataError):  # PostgreSQL text cannot hold NUL: the row fails after the file was written
        create_submission(alice, cifar10, "tiny", source, {}, card={"description": "a NUL \x00 character"})
    assert not Submission.objects.exists()
    assert media_files(settings) == []


def at_once(clients: list, paths: list) -> list:
    """Each client posts its file from its own thread, all released together; returns responses (or errors)."""
    barrier = threading.Barrier(len(clients))
    outcomes: list = [None] * len(clients)

    def submit(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            outcomes[index] = post(clients[index], paths[index])
        except Exception as error:  # kept for the assertion: a 500 raises in the test client
            outcomes[index] = error
        finally:
            connection.close()  # the thread's own connection, or the test database cannot be dropped

    threads = [threading.Thread(target=submit, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("daily", "in_flight", "same_file", "allowed", "status", "sentence"),
    [
        (5, 100, False, 5, 429, "you have used your quota of 5 submissions to cifar10"),
        (100, 2, False, 2, 429, "you have 2 evaluations queued or running, the most allowed at once"),
        (100, 100, True, 1, 409, "you already submitted this model with the same preprocessing to cifar10"),
    ],
    ids=["daily-quota", "in-flight-cap", "duplicate"],
)
def test_the_limits_hold_under_20_concurrent_submits_from_one_user(
    daily, in_flight, same_file, allowed, status, sentence, cifar10, alice, api_as, tmp_path, settings
):
    settings.ZOOBOARD_DAILY_QUOTA, settings.ZOOBOARD_MAX_IN_FLIGHT = daily, in_flight
    paths = [tiny_model(tmp_path, 0.1 if same_file else 0.01 * (index + 1)) for index in range(20)]
    outcomes = at_once([api_as(alice) for _ in paths], paths)
    codes = Counter(getattr(outcome, "status_code", repr(outcome)) for outcome in outcomes)
    assert codes == {201: allowed, status: 20 - allowed}
    refusals = [outcome.json()["error"] for outcome in outcomes if outcome.status_code != 201]
    assert all(refusal.startswith(sentence) for refusal in refusals), refusals
    stored = Submission.objects.all()
    assert stored.count() == allowed
    assert sorted(media_files(settings)) == sorted(settings.MEDIA_ROOT / row.model_file.name for row in stored)


def test_a_flood_from_one_user_puts_at_most_two_evaluations_ahead_of_anothers(
    cifar10, alice, bob, api_as, tmp_path, sent_tasks, django_capture_on_commit_callbacks
):
    """50 submits in a row from alice: 2 reach the queue, the rest are refused; bob's comes third in the queue."""
    flood, answers = api_as(alice), []
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(50):
            answers.append(post(flood, tiny_model(tmp_path, 0.001 * (index + 1))).status_code)
        bobs = post(api_as(bob), tiny_model(tmp_path, 0.5))
    assert answers.count(201) == 2 and answers.count(429) == 48
    assert bobs.status_code == 201
    queue = [kwargs["args"][0] for name, kwargs in sent_tasks if name == "evaluator.evaluate_submission"]
    owners = [Submission.objects.get(pk=pk).owner.username for pk in queue]
    assert owners == ["alice", "alice", "bob"]

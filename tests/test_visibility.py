"""Who sees what: alice's failed, cancelled and hidden submissions (their errors and files) are hers and staff's;
bob and anonymous visitors get a 404 on the page and the API and never find them in a list."""

from __future__ import annotations

import pytest

from leaderboard.models import Status, Submission
from tests.helpers import finished_submission

ERROR = "the model's output has 1000 classes; this test set has 10"


def ended(testset, owner, status: Status, name: str) -> Submission:
    submission = Submission.objects.create(
        owner=owner, testset=testset, name=name, preprocessing={"input_size": 32}, model_sha256="ab" * 32
    )
    submission.move_to(Status.RUNNING)
    submission.move_to(status, error_message=ERROR if status == Status.FAILED else "")
    return submission


@pytest.fixture(params=[Status.FAILED, Status.CANCELLED])
def private(request, cifar10, alice):
    """alice's submission that only she and staff may see: one that failed, one that was cancelled."""
    return ended(cifar10, alice, request.param, f"Private {request.param}")


def names_listed(api) -> set[str]:
    return {row["name"] for row in api.get("/api/submissions/").json()["results"]}


def test_the_submitter_sees_her_failed_submission_and_its_error(private, alice, client, api_as):
    client.force_login(alice)
    page = client.get(f"/submissions/{private.pk}/")
    assert page.status_code == 200 and private.name in page.content.decode()
    detail = api_as(alice).get(f"/api/submissions/{private.pk}/")
    assert detail.status_code == 200 and detail.json()["error_message"] == private.error_message
    assert private.name in names_listed(api_as(alice))


def test_staff_see_a_failed_submission_and_its_error(private, staff, client, api_as):
    client.force_login(staff)
    assert client.get(f"/submissions/{private.pk}/").status_code == 200
    assert api_as(staff).get(f"/api/submissions/{private.pk}/").json()["error_message"] == private.error_message
    assert private.name in names_listed(api_as(staff))


def test_another_submitter_gets_a_404_for_a_failed_submission(private, bob, client, api_as):
    client.force_login(bob)
    page = client.get(f"/submissions/{private.pk}/")
    assert page.status_code == 404 and ERROR not in page.content.decode()
    detail = api_as(bob).get(f"/api/submissions/{private.pk}/")
    assert detail.status_code == 404 and ERROR not in detail.content.decode()
    assert private.name not in names_listed(api_as(bob))


def test_an_anonymous_visitor_gets_a_404_for_a_failed_submission(private, client):
    assert client.get(f"/submissions/{private.pk}/").status_code == 404
    detail = client.get(f"/api/submissions/{private.pk}/")
    assert detail.status_code == 404 and ERROR not in detail.content.decode()
    listed = client.get("/api/submissions/").content.decode()
    assert private.name not in listed and ERROR not in listed and private.model_sha256 not in listed


def test_a_failed_submission_is_on_no_public_page(private, client):
    for path in ("/", "/testsets/cifar10/"):
        page = client.get(path).content.decode()
        assert private.name not in page and ERROR not in page


def test_another_submitter_cannot_cancel_what_he_cannot_see(cifar10, alice, bob, client, api_as):
    queued = Submission.objects.create(
        owner=alice, testset=cifar10, name="Hidden queued", preprocessing={}, hidden=True
    )
    assert api_as(bob).post(f"/api/submissions/{queued.pk}/cancel/").status_code == 404
    client.force_login(bob)
    assert client.post(f"/submissions/{queued.pk}/cancel/").status_code == 404
    assert Submission.objects.get(pk=queued.pk).status == Status.QUEUED


def test_the_queue_on_a_board_lists_only_what_the_visitor_may_see(cifar10, alice, bob, client):
    Submission.objects.create(owner=alice, testset=cifar10, name="Shown in the queue", preprocessing={})
    Submission.objects.create(owner=alice, testset=cifar10, name="Hidden in the queue", preprocessing={}, hidden=True)
    public = client.get("/testsets/cifar10/").content.decode()
    assert "Shown in the queue" in public and "Hidden in the queue" not in public
    client.force_login(bob)
    assert "Hidden in the queue" not in client.get("/testsets/cifar10/").content.decode()
    client.force_login(alice)
    assert "Hidden in the queue" in client.get("/testsets/cifar10/").content.decode()


def test_a_hidden_result_is_listed_to_its_owner_and_staff_only(cifar10, alice, bob, staff, api_as):
    hidden = finished_submission(cifar10, alice, "Hidden result", 0.9, 0.99, hidden=True)
    assert hidden.name in names_listed(api_as(alice)) and hidden.name in names_listed(api_as(staff))
    assert hidden.name not in names_listed(api_as(bob))
    assert api_as(bob).get(f"/api/submissions/{hidden.pk}/").status_code == 404


def test_a_public_result_is_listed_to_everyone(cifar10, alice, bob, client, api_as):
    shown = finished_submission(cifar10, alice, "Public result", 0.9, 0.99)
    assert shown.name in names_listed(client) and shown.name in names_listed(api_as(bob))
    assert client.get(f"/submissions/{shown.pk}/").status_code == 200

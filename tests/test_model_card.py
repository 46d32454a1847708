"""The model card: the submitter's description, paper and code links, licence and architecture family, taken at
submit time by the form, the API and manage.py submit, shown on the submission page and the boards, and edited
by the owner alone."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leaderboard.models import Submission

pytestmark = pytest.mark.django_db

CARD = {
    "description": "ResNet-20 of He et al., trained by a third party.\nSecond line.",
    "paper_url": "https://arxiv.org/abs/1512.03385",
    "code_url": "https://github.com/example/cifar-resnets",
    "licence": "BSD-3-Clause",
    "architecture": "resnet",
}


def submit_by_api(api, model_path, **card):
    with open(model_path("resnet20"), "rb") as handle:
        return api.post("/api/submissions/", {"testset": "cifar10", "model_file": handle, **card})


def test_the_api_takes_the_card_and_the_page_shows_it(cifar10, alice, api_as, model_path, client):
    response = submit_by_api(api_as(alice), model_path, **CARD)
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    submission = Submission.objects.get(pk=pk)
    assert {key: getattr(submission, key) for key in CARD} == CARD
    detail = client.get(f"/api/submissions/{pk}/").json()
    assert {key: detail[key] for key in CARD} == CARD

    page = client.get(f"/submissions/{pk}/").content.decode()
    assert "ResNet-20 of He et al., trained by a third party.<br>Second line." in page
    assert f'<a href="{CARD["paper_url"]}" rel="nofollow noopener ugc">' in page
    assert f'<a href="{CARD["code_url"]}" rel="nofollow noopener ugc">' in page
    assert '<dd id="card-licence">BSD-3-Clause</dd>' in page and '<dd id="card-architecture">resnet</dd>' in page
    assert 'id="edit-card"' not in page  # not signed in: not the owner


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("paper_url", "javascript:alert(1)", "paper_url: must be a web address (http:// or https://)"),
        ("code_url", "ftp://example.org/code.tar", "code_url: must be a web address (http:// or https://)"),
        ("licence", "x" * 101, "licence: Ensure this field has no more than 100 characters."),
    ],
)
def test_a_bad_card_is_refused_with_its_field_and_nothing_is_stored(
    cifar10, alice, api_as, model_path, field, value, sentence
):
    response = submit_by_api(api_as(alice), model_path, **{field: value})
    assert response.status_code == 400
    assert sentence in str(response.json())
    assert not Submission.objects.exists()


def test_the_form_takes_the_card(cifar10, alice, client, model_path):
    client.force_login(alice)
    with open(model_path("resnet20"), "rb") as handle:
        response = client.post("/submit/", {"testset": "cifar10", "model_file": handle, **CARD})
    assert response.status_code == 302, response.content.decode()[-2000:]
    submission = Submission.objects.get()
    assert {key: getattr(submission, key) for key in CARD} == {**CARD, "description": CARD["description"]}

    with open(model_path("resnet32"), "rb") as handle:
        refused = client.post("/submit/", {"testset": "cifar10", "model_file": handle, "paper_url": "javascript:x"})
    assert refused.status_code == 400 and "must be a web address (http:// or https://)" in refused.content.decode()
    assert Submission.objects.count() == 1


def test_manage_py_submit_takes_the_card(cifar10, alice, model_path):
    out = io.StringIO()
    call_command(
        "submit", str(model_path("resnet20")), user="alice", testset="cifar10", paper_url=CARD["paper_url"],
        licence="MIT", stdout=out,
    )  # fmt: skip
    submission = Submission.objects.get()
    assert (submission.paper_url, submission.licence) == (CARD["paper_url"], "MIT")
    with pytest.raises(CommandError, match="paper_url: must be a web address"):
        call_command("submit", str(model_path("resnet32")), user="alice", testset="cifar10", paper_url="data:,x")


def test_only_the_owner_edits_the_card_and_the_boards_follow(cifar10, alice, bob, api_as, model_path, client):
    response = submit_by_api(api_as(alice), model_path, architecture="resnet")
    pk = response.json()["id"]
    url = f"/submissions/{pk}/card/"
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(bob)
    assert client.get(url).status_code == 404
    assert client.post(url, {**CARD, "licence": "stolen"}).status_code == 404
    assert Submission.objects.get(pk=pk).licence == ""

    client.force_login(alice)
    page = client.get(f"/submissions/{pk}/").content.decode()
    assert f'href="{url}" id="edit-card"' in page
    form = client.get(url)
    assert form.status_code == 200 and 'name="paper_url"' in form.content.decode()
    bad = client.post(url, {**CARD, "code_url": "javascript:alert(1)"})
    assert bad.status_code == 400 and "must be a web address" in bad.content.decode()
    assert Submission.objects.get(pk=pk).code_url == ""
    saved = client.post(url, {**CARD, "architecture": "wide_resnet"})
    assert saved.status_code == 302 and saved["Location"] == f"/submissions/{pk}/#card"
    edited = Submission.objects.get(pk=pk)
    assert (edited.paper_url, edited.architecture, edited.licence) == (CARD["paper_url"], "wide_resnet", "BSD-3-Clause")


def test_the_boards_link_the_card_and_follow_its_edits(cifar10, alice, client, ranked):
    """The board's row links the paper and the code; the exports carry them; an edit reaches a cached board."""
    submission = ranked(cifar10, alice, "R", 0.8, **CARD)

    def row_html() -> str:
        page = client.get("/testsets/cifar10/").content.decode()
        return page[page.index(f'href="/submissions/{submission.pk}/"') :].split("</td>", 1)[0]

    cell = row_html()
    assert (
        f'<a class="card-link" href="{CARD["paper_url"]}" rel="nofollow noopener ugc" title="the paper">paper</a>'
        in cell
    )
    assert f'href="{CARD["code_url"]}"' in cell
    exported = client.get("/api/testsets/cifar10/leaderboard/", {"format": "json"})
    row = json.loads(b"".join(exported.streaming_content))["rows"][0]
    assert (row["paper_url"], row["code_url"]) == (CARD["paper_url"], CARD["code_url"])
    csv_text = b"".join(client.get("/testsets/cifar10/", {"format": "csv"}).streaming_content).decode()
    assert csv_text.splitlines()[0].endswith(",paper_url,code_url") and CARD["code_url"] in csv_text

    client.force_login(alice)
    edited = {**CARD, "paper_url": "https://example.org/paper?a=1&b=2", "code_url": ""}
    assert client.post(f"/submissions/{submission.pk}/card/", edited).status_code == 302
    client.logout()
    cell = row_html()  # the same reader, the same URL: served afresh, not the cached page of before
    assert 'href="https://example.org/paper?a=1&amp;b=2"' in cell and "code</a>" not in cell


def test_the_client_names_the_cards_fields_as_the_server_does():
    """The client keeps its own copy (it is free of Django): the two must not drift apart."""
    from client.api import CARD_FIELDS as CLIENT_FIELDS
    from leaderboard.models import CARD_FIELDS

    assert CLIENT_FIELDS == CARD_FIELDS

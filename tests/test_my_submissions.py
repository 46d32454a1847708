"""My submissions: status, headline and rank as the board has them, withdraw and restore (the owner only, the
boards following), and resubmit with the form filled in."""

from __future__ import annotations

import re

import pytest

from leaderboard.models import Submission

pytestmark = pytest.mark.django_db


def row(page: str, submission) -> str:
    return page.split(f'id="mine-{submission.pk}"', 1)[1].split("</tr>", 1)[0]


def board_names(client) -> list[str]:
    rows = client.get("/api/testsets/cifar10/leaderboard/").json()["rows"]
    return [entry["name"] for entry in rows]


def test_each_row_has_its_status_headline_and_rank(cifar10, alice, bob, client, ranked):
    mine = ranked(cifar10, alice, "Mine", 0.8)
    ranked(cifar10, bob, "Better", 0.9)
    queued = Submission.objects.create(owner=alice, testset=cifar10, name="Queued", preprocessing={})
    client.force_login(alice)
    page = client.get("/submissions/mine/").content.decode()
    assert "Top-1 80.00%" in row(page, mine) and '<td class="num rank">#2</td>' in row(page, mine)
    assert "queued" in row(page, queued) and '<td class="num rank">–</td>' in row(page, queued)
    assert "Better" not in page  # only the user's own


def test_the_owner_withdraws_and_restores_and_the_boards_follow(cifar10, alice, bob, client, ranked):
    mine = ranked(cifar10, alice, "Mine", 0.8)
    assert board_names(client) == ["Mine"]
    client.force_login(bob)
    assert client.post(f"/submissions/{mine.pk}/withdraw/").status_code == 404  # not bob's
    client.force_login(alice)
    response = client.post(f"/submissions/{mine.pk}/withdraw/")
    assert response.status_code == 302
    assert board_names(client) == []
    assert client.get(f"/submissions/{mine.pk}/").status_code == 200  # still the owner's to see
    assert "withdrawn" in row(client.get("/submissions/mine/").content.decode(), mine)
    client.logout()
    assert client.get(f"/submissions/{mine.pk}/").status_code == 404  # gone for everyone else
    assert client.get(f"/submissions/{mine.pk}/badge.svg").status_code == 404
    client.force_login(alice)
    client.post(f"/submissions/{mine.pk}/withdraw/", {"restore": "1"})
    assert board_names(client) == ["Mine"]


def test_resubmit_fills_in_the_form_from_the_earlier_one(cifar10, alice, bob, client, ranked):
    earlier = ranked(cifar10, alice, "Earlier", 0.8, paper_url="https://example.org/paper", licence="MIT")
    Submission.objects.filter(pk=earlier.pk).update(preprocessing={"input_size": 32, "mean": [0.5, 0.5, 0.5]})
    client.force_login(alice)
    form = client.get("/submit/", {"from": earlier.pk}).content.decode()
    assert re.search(r'name="paper_url"[^>]*value="https://example.org/paper"', form)
    assert re.search(r'name="licence"[^>]*value="MIT"', form) and re.search(r'name="name"[^>]*value="Earlier"', form)
    assert re.search(r'name="mean"[^>]*value="0.5 0.5 0.5"', form) and re.search(
        r'name="input_size"[^>]*value="32"', form
    )
    client.force_login(bob)  # someone else's: an empty form
    assert "https://example.org/paper" not in client.get("/submit/", {"from": earlier.pk}).content.decode()

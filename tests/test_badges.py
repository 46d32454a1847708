"""The README badge: an entry's rank and headline as the public board shows them, cached, and a 404 for
anything that is not on a public board."""

from __future__ import annotations

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leaderboard import moderating
from leaderboard.models import Submission

pytestmark = pytest.mark.django_db


def badge_text(client, submission) -> str:
    response = client.get(f"/submissions/{submission.pk}/badge.svg")
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    assert "max-age=" in response["Cache-Control"] and "default-src 'none'" in response["Content-Security-Policy"]
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", response.content.decode())
    assert texts[0] == "Zooboard"
    return texts[-1]


def test_the_badge_shows_the_rank_and_headline_the_board_shows(cifar10, alice, bob, staff, client, ranked):
    scores = {"A": 0.7103, "B": 0.9, "C": 0.8}
    made = {name: ranked(cifar10, alice if name != "C" else bob, name, top1) for name, top1 in scores.items()}
    by_score = sorted(scores, key=scores.get, reverse=True)  # the board's order, worked out here
    for name, submission in made.items():
        assert badge_text(client, submission) == f"rank #{by_score.index(name) + 1} · Top-1 {scores[name] * 100:.2f}%"

    caches["boards"].clear()
    badge_text(client, made["A"])
    with CaptureQueriesContext(connection) as cached:
        badge_text(client, made["A"])
    assert len(cached) <= 3  # the submission's visibility and the label set: the badge itself from the cache

    moderating.hide(made["B"], staff, "a test")  # A moves up; B's badge goes, for everyone
    assert badge_text(client, made["A"]) == "rank #2 · Top-1 71.03%"
    assert client.get(f"/submissions/{made['B'].pk}/badge.svg").status_code == 404
    client.force_login(alice)  # the owner too: a badge shows what the public board shows
    assert client.get(f"/submissions/{made['B'].pk}/badge.svg").status_code == 404


def test_no_badge_for_what_is_not_on_a_public_board(cifar10, alice, client, ranked):
    queued = Submission.objects.create(owner=alice, testset=cifar10, name="Q", preprocessing={})
    assert client.get(f"/submissions/{queued.pk}/badge.svg").status_code == 404
    assert client.get("/submissions/999999/badge.svg").status_code == 404
    entry = ranked(cifar10, alice, "D", 0.5)
    assert client.get(f"/submissions/{entry.pk}/badge.svg", {"label_set": "nonesuch"}).status_code == 404

    page = client.get(f"/submissions/{entry.pk}/").content.decode()
    assert f"[![Zooboard](http://testserver/submissions/{entry.pk}/badge.svg)]" in page
    queued_page = client.get(f"/submissions/{queued.pk}/")
    assert queued_page.status_code == 200 and "badge.svg" not in queued_page.content.decode()

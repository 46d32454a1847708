"""Statistical ties between leaderboard neighbours (McNemar's exact test) and small slices kept from the public."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.metrics.paired import mcnemar_exact_p
from tests.helpers import finished_submission


def paired(only_a: int, only_b: int, both: int = 7000, n: int = 10_000):
    """Correctness vectors where A alone is right on only_a examples and B alone on only_b."""
    a, b = np.zeros(n, bool), np.zeros(n, bool)
    a[:both] = b[:both] = True
    a[both : both + only_a] = True
    b[both + only_a : both + only_a + only_b] = True
    return a, b


@pytest.mark.parametrize(
    ("only_a", "only_b", "p_value"),
    [
        (10, 2, 158 / 4096),  # 2 x P(X <= 2), X ~ Binomial(12, 1/2) = 2 x (1 + 12 + 66) / 4096
        (6, 4, 772 / 1024),  # 2 x (1 + 10 + 45 + 120 + 210) / 1024
        (5, 5, 1.0),
    ],
)
def test_mcnemar_exact_p_values(only_a, only_b, p_value):
    assert mcnemar_exact_p(*paired(only_a, only_b)) == pytest.approx(p_value)


def submit_pair(testset, owner, only_a, only_b):
    a, b = paired(only_a, only_b)
    finished_submission(testset, owner, "Model A", a.mean(), 0.99, correct=a)
    finished_submission(testset, owner, "Model B", b.mean(), 0.99, correct=b)


def test_neighbours_within_noise_are_marked_tied(cifar10, alice, client):
    submit_pair(cifar10, alice, 6, 4)
    page = client.get("/testsets/cifar10/").content.decode()
    assert "statistically tied with the next entry (McNemar exact, p = 0.754)" in page
    rows = client.get("/api/testsets/cifar10/leaderboard/").json()["rows"]
    assert rows[0]["tied_with_next"] and rows[0]["p_value_next"] == pytest.approx(772 / 1024)


def test_a_real_difference_is_not_marked(cifar10, alice, client):
    submit_pair(cifar10, alice, 10, 2)
    assert "statistically tied" not in client.get("/testsets/cifar10/").content.decode()
    assert client.get("/api/testsets/cifar10/leaderboard/").json()["rows"][0]["tied_with_next"] is False


@pytest.fixture
def with_small_slice(cifar10, alice):
    return finished_submission(
        cifar10, alice, "Sliced", 0.8, 0.99, slices={"label_status": {"correctable": 18, "clean": 9946}}
    )


def test_small_slices_are_hidden_from_the_public(with_small_slice, client, charlie):
    client.force_login(charlie)
    page = client.get(f"/submissions/{with_small_slice.pk}/").content.decode()
    assert "<td>clean</td>" in page and "<td>correctable</td>" not in page
    assert "1 slice(s) with fewer than 25 images are shown to staff only" in page
    slices = client.get(f"/api/submissions/{with_small_slice.pk}/").json()["results"][0]["slices"]
    assert [s["name"] for s in slices] == ["clean"]


def test_staff_see_every_slice(with_small_slice, client, staff):
    client.force_login(staff)
    assert "<td>correctable</td>" in client.get(f"/submissions/{with_small_slice.pk}/").content.decode()
    slices = client.get(f"/api/submissions/{with_small_slice.pk}/").json()["results"][0]["slices"]
    assert sorted(s["name"] for s in slices) == ["clean", "correctable"]

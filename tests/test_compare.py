"""Two submissions side by side: the paired difference and McNemar's p-value checked against sums worked out
here from the two models' raw per-image hits, the small-slice rule, and every way a comparison is refused."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from leaderboard import moderating
from leaderboard.models import Result, Status, Submission

pytestmark = pytest.mark.django_db
N = 10_000


def stored(testset, owner, name: str, hits: np.ndarray, clean_kept: np.ndarray, slice_size: int) -> Submission:
    """A done submission whose results are made from its per-image top-1 hits: original (every image) and clean
    (the kept images), with one big and one small class slice."""
    submission = Submission.objects.create(owner=owner, testset=testset, name=name, preprocessing={})
    submission.move_to(Status.RUNNING)
    submission.move_to(Status.SCORING)
    scores = {}
    for label_set, kept in (("original", np.ones(N, bool)), ("clean", clean_kept)):
        correct = hits & kept
        top1 = float(correct.sum() / kept.sum())
        big, small = correct[:5000], correct[5000 : 5000 + slice_size]
        scores[label_set] = {
            **{"version": 1, "protocol": label_set, "headline": "top1"},
            **{"metrics": {"top1": top1, "top5": min(1.0, top1 + 0.1)}, "intervals": {"top1": [top1 - 0.01, top1]}},
            **{"counts": {"scored": int(kept.sum())}, "summaries": {}, "curves": {}, "correct": correct},
            "per_example": None,
            "slices": {
                "class": {
                    "big": {"count": 5000, "counts": {"scored": 5000}, "metrics": {"top1": float(big.mean())}},
                    "small": {
                        "count": slice_size,
                        "counts": {"scored": slice_size},
                        "metrics": {"top1": float(small.mean())},
                    },
                }
            },
        }
        for values in scores[label_set]["slices"]["class"].values():
            values["intervals"] = {}
    Result.objects.store(submission, scores)
    submission.move_to(Status.DONE)
    return submission


@pytest.fixture
def pair(cifar10, alice, bob):
    rng = np.random.default_rng(5)
    a_hits, b_hits = rng.random(N) < 0.83, rng.random(N) < 0.81
    kept = rng.random(N) > 0.05  # the clean label set scores 95% of the images
    a = stored(cifar10, alice, "A", a_hits, kept, slice_size=10)
    b = stored(cifar10, bob, "B", b_hits, kept, slice_size=10)
    return a, b, a_hits, b_hits, kept


def expected(a_hits, b_hits, kept) -> tuple[str, float]:
    """The paired difference as the page writes it, and McNemar's exact two-sided p, from the raw hits alone:
    the t interval by hand (normal quantile: at 9,000+ images t and z agree to the digits shown), the binomial
    tail by exact integer sums."""
    d = a_hits[kept].astype(np.int64) - b_hits[kept].astype(np.int64)
    mean, se = d.mean(), d.std(ddof=1) / math.sqrt(len(d))
    text = f"{mean * 100:+.2f} pts</strong>, 95% interval {(mean - 1.96 * se) * 100:+.2f} pts to "
    text += f"{(mean + 1.96 * se) * 100:+.2f} pts"
    only_a = int((a_hits & ~b_hits & kept).sum())
    only_b = int((~a_hits & b_hits & kept).sum())
    n, k = only_a + only_b, min(only_a, only_b)
    p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)
    return text, p, (only_a, only_b)


def paired_line(page: str, label_set: str) -> str:
    return " ".join(page.split(f'id="paired-{label_set}"', 1)[1].split("</p>", 1)[0].split())


def test_the_paired_difference_and_mcnemar_match_the_raw_hits(pair, client):
    a, b, a_hits, b_hits, kept = pair
    response = client.get("/compare/", {"a": a.pk, "b": b.pk})
    assert response.status_code == 200
    page = response.content.decode()
    for label_set, scored in (("original", np.ones(N, bool)), ("clean", kept)):
        line = paired_line(page, label_set)
        text, p, (only_a, only_b) = expected(a_hits, b_hits, scored)
        assert text in line, line
        if p < 1e-4:
            assert "McNemar's exact p &lt; 0.0001" in line
        else:
            shown_p = float(re.search(r"McNemar's exact p = ([0-9.]+)", line).group(1))
            assert shown_p == pytest.approx(p, abs=5e-5)
        assert f"({only_a} images only A gets right, {only_b} only B)" in line
        assert ("statistically tied" in line) == (p >= 0.05)
    # the same two through the board's ticked rows
    ticked = client.get("/compare/", {"id": [a.pk, b.pk]}).content.decode()
    assert paired_line(ticked, "original") == paired_line(page, "original")


def test_slices_side_by_side_obey_the_small_slice_rule(pair, client, staff):
    a, b, a_hits, *_ = pair
    page = client.get("/compare/", {"a": a.pk, "b": b.pk}).content.decode()
    assert f'<td>big</td><td class="num">5000</td>\n      <td class="num">{a_hits[:5000].mean() * 100:.2f}%' in page
    assert "<td>small</td>" not in page  # 10 images: staff only
    client.force_login(staff)
    assert "<td>small</td>" in client.get("/compare/", {"a": a.pk, "b": b.pk}).content.decode()


def test_what_cannot_be_compared_gets_a_sentence(pair, client, staff):
    a, b, *_ = pair
    cases = [
        ({"a": a.pk, "b": a.pk}, 400, "pick two different submissions"),
        ({"a": a.pk}, 400, "pick two submissions"),
        ({"a": a.pk, "b": "x1"}, 400, "pick two submissions"),
        ({"id": [a.pk, b.pk, b.pk]}, 400, "pick two submissions"),
        ({"a": a.pk, "b": 999999}, 404, "no submission 999999 to compare"),
    ]
    for params, status, sentence in cases:
        response = client.get("/compare/", params)
        assert response.status_code == status, params
        assert sentence in response.content.decode()
    moderating.hide(b, staff, "a test")  # hidden: as if it did not exist, for everyone but its owner and staff
    assert client.get("/compare/", {"a": a.pk, "b": b.pk}).status_code == 404
    client.force_login(staff)
    assert client.get("/compare/", {"a": a.pk, "b": b.pk}).status_code == 200


def test_the_board_and_the_submission_page_lead_to_it(pair, client):
    a, b, *_ = pair
    board = client.get("/testsets/cifar10/").content.decode()
    assert '<form method="get" action="/compare/" id="compare-rows">' in board
    for submission in (a, b):
        assert f'<input type="checkbox" name="id" value="{submission.pk}"' in board
    page = client.get(f"/submissions/{b.pk}/").content.decode()  # B is behind A: A leads the board
    assert f'href="/compare/?a={b.pk}&amp;b={a.pk}" id="compare-leader"' in page
    assert 'id="compare-leader"' not in client.get(f"/submissions/{a.pk}/").content.decode()

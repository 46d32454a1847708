"""Fair use at submit time: a daily quota per user and test set, a cap on evaluations in flight, no duplicates."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timeuntil

from leaderboard.models import Status, Submission, TestSet
from leaderboard.models.submissions import IN_FLIGHT
from plugins.errors import SubmissionError

WINDOW = timedelta(hours=24)  # rolling, not a calendar day: no burst of 2 x quota around midnight
# The in-flight estimate: the median of the site's last evaluations, never under MIN_WAIT seconds.
RECENT_EVALUATIONS, FIRST_GUESS, MIN_WAIT = 20, 60.0, 10


class SubmissionRefused(SubmissionError):
    """The model may be fine, but not now (429, retry_after seconds), not again (409, link to the earlier
    submission) or not here (403, a closed test set)."""

    def __init__(self, sentence: str, status: int, retry_after: int | None = None, link: str = ""):
        super().__init__(f"{sentence}: {link}" if link else sentence)
        self.sentence, self.status, self.retry_after, self.link = sentence, status, retry_after, link

    def text(self, absolute=None) -> str:
        """The sentence, its link made absolute by `absolute` (e.g. request.build_absolute_uri) when given."""
        if self.link and absolute is not None:
            return f"{self.sentence}: {absolute(self.link)}"
        return str(self)


@dataclass(frozen=True)
class Quota:
    """Where a user stands on one test set. The limits are None for staff, who are exempt from them."""

    testset: str
    title: str
    daily_quota: int | None
    used: int  # counted submissions in the last 24 hours
    resets_at: datetime | None  # when a counted submission next leaves the window, so that one more is possible
    in_flight: int  # on every test set
    max_in_flight: int | None

    @property
    def remaining(self) -> int | None:
        return None if self.daily_quota is None else max(self.daily_quota - self.used, 0)

    def describe(self) -> str:
        """One sentence for the page and the messages."""
        if self.daily_quota is None:
            return f"{self.title}: {self.used} submissions in the last 24 hours (staff have no quota)."
        text = f"{self.title}: {self.remaining} of {self.daily_quota} submissions left in the last 24 hours"
        if self.resets_at is None:
            return text + "."
        return f"{text}; the next slot frees at {self.resets_at:%Y-%m-%d %H:%M} UTC."


def daily_quota(testset: TestSet) -> int:
    return settings.ZOOBOARD_DAILY_QUOTA if testset.daily_quota is None else testset.daily_quota


def counted(owner, testset: TestSet) -> QuerySet:
    """The submissions that use up owner's quota on testset: all of the last 24 hours, failed ones included,
    except those cancelled before a worker started them (regretting a queued one costs nothing; a cancelled
    running one has used the worker)."""
    since = timezone.now() - WINDOW
    return Submission.objects.filter(owner=owner, testset=testset, created_at__gt=since).exclude(
        status=Status.CANCELLED, started_at__isnull=True
    )


def quota_for(owner, testset: TestSet) -> Quota:
    exempt = owner.is_staff
    limit = None if exempt else daily_quota(testset)
    times = list(counted(owner, testset).order_by("created_at").values_list("created_at", flat=True))
    # the slot that frees next; where staff lowered the quota below what is used, more must leave first
    index = len(times) - limit if limit and len(times) >= limit else 0
    resets_at = times[index] + WINDOW if times and limit != 0 else None
    return Quota(
        testset=testset.name,
        title=testset.title,
        daily_quota=limit,
        used=len(times),
        resets_at=resets_at,
        in_flight=in_flight_count(owner),
        max_in_flight=max_in_flight(owner),
    )


def in_flight_count(owner) -> int:
    """Evaluations queued, running or scoring, on every test set."""
    return Submission.objects.filter(owner=owner, status__in=IN_FLIGHT).count()


def max_in_flight(owner) -> int | None:
    return None if owner.is_staff else settings.ZOOBOARD_MAX_IN_FLIGHT


def quotas_for(owner) -> list[Quota]:
    return [quota_for(owner, testset) for testset in TestSet.objects.all()]


def check_limits(owner, testset: TestSet) -> None:
    """Raises SubmissionRefused when owner may not submit to testset now."""
    if owner.is_staff:
        return
    quota = quota_for(owner, testset)
    if quota.daily_quota == 0:
        raise SubmissionRefused(f"{testset.name} takes no submissions at the moment (its daily quota is 0)", 403)
    if quota.remaining == 0:
        wait = seconds_until(quota.resets_at)
        raise SubmissionRefused(
            f"you have used your quota of {quota.daily_quota} submissions to {testset.name} in 24 hours (failed ones "
            f"count): the next is possible in {in_words(quota.resets_at)}, at "
            f"{quota.resets_at:%Y-%m-%d %H:%M:%S} UTC",
            429,
            retry_after=wait,
        )
    if quota.in_flight >= quota.max_in_flight:
        wait = in_flight_wait(owner)
        minutes = math.ceil(wait / 60)
        raise SubmissionRefused(
            f"you have {quota.in_flight} evaluations queued or running, the most allowed at once: submit again "
            f"when one of them ends, in about {minutes} minute{'' if minutes == 1 else 's'}",
            429,
            retry_after=wait,
        )


def in_words(moment: datetime) -> str:
    """Such as "3 hours, 12 minutes": Django's timeuntil, with plain spaces for the API and the terminal."""
    return timeuntil(moment, depth=2).replace("\xa0", " ")


def seconds_until(moment: datetime) -> int:
    return max(math.ceil((moment - timezone.now()).total_seconds()), 1)


def in_flight_wait(owner) -> int:
    """An estimate of when the first of owner's evaluations in flight ends: the median run of the site's last
    evaluations, less what the one furthest along has already run (a queued one may also wait for a worker)."""
    recent = (
        Submission.objects.filter(status=Status.DONE, started_at__isnull=False, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("started_at", "finished_at")[:RECENT_EVALUATIONS]
    )
    runs = [(finished - started).total_seconds() for started, finished in recent]
    typical = statistics.median(runs) if runs else FIRST_GUESS
    started = (
        Submission.objects.filter(owner=owner, status__in=IN_FLIGHT, started_at__isnull=False)
        .order_by("started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    elapsed = (timezone.now() - started).total_seconds() if started else 0.0
    return max(math.ceil(typical - elapsed), MIN_WAIT)


def lock_owner(owner) -> None:
    """Holds owner's row until the transaction ends, so one user's concurrent submits are counted and stored one
    at a time. (SQLite, the demo's database, ignores it; it runs one write transaction at a time anyway.)"""
    get_user_model().objects.select_for_update().only("pk").get(pk=owner.pk)


def check_duplicate(submission: Submission) -> None:
    """Refuses the same model (file hash, or identifier alone), resolved recipe and test set again, with a link
    to the earlier one: the owner's own (unless cancelled), else any public done one. Another user's failed,
    running or hidden submission is never named."""
    same = Submission.objects.filter(
        testset=submission.testset,
        model_format=submission.model_format,
        model_identifier=submission.model_identifier,
        model_sha256=submission.model_sha256,
        preprocessing=submission.preprocessing,
    ).order_by("created_at")
    own = same.filter(owner=submission.owner).exclude(status=Status.CANCELLED).first()
    public = None if own else same.public().filter(status=Status.DONE).first()
    if own is None and public is None:
        return
    earlier = own or public
    where = submission.testset.name
    if own is None:
        sentence = f"the same model with the same preprocessing is already on the {where} leaderboard"
    elif own.status == Status.FAILED:
        sentence = (
            f"you already submitted this model with the same preprocessing to {where} and it failed; change the "
            "model or its preprocessing, or ask the operators to re-run it if the failure was theirs"
        )
    else:
        sentence = f"you already submitted this model with the same preprocessing to {where}"
    raise SubmissionRefused(sentence, 409, link=reverse("submission", args=[earlier.pk]))

"""The data model: test sets and their label sets, submissions, and results per label set and slice."""

from leaderboard.models.results import Result, SliceResult
from leaderboard.models.submissions import InvalidTransition, Status, Submission
from leaderboard.models.testsets import LabelSet, TestSet

__all__ = ["InvalidTransition", "LabelSet", "Result", "SliceResult", "Status", "Submission", "TestSet"]

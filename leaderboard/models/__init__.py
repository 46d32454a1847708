"""The data model: test sets and their label sets, submissions, results per label set and slice, and
moderation (bans and the audit log)."""

from leaderboard.models.boards import BoardEntry, TieTest
from leaderboard.models.moderation import Action, AppendOnlyError, Ban, ModerationEvent
from leaderboard.models.results import Result, SliceResult
from leaderboard.models.submissions import CARD_FIELDS, InvalidTransition, Status, Submission
from leaderboard.models.testsets import LabelSet, TestSet
from leaderboard.models.tokens import ApiToken

__all__ = [
    "CARD_FIELDS",
    "Action",
    "ApiToken",
    "AppendOnlyError",
    "Ban",
    "BoardEntry",
    "InvalidTransition",
    "LabelSet",
    "ModerationEvent",
    "Result",
    "SliceResult",
    "Status",
    "Submission",
    "TestSet",
    "TieTest",
]

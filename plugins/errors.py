"""The one exception for what a submitter got wrong; everything else is an internal error."""

from __future__ import annotations


class SubmissionError(Exception):
    """A problem the submitter can fix. Its message is shown as is on the page, the API and the CLI."""

"""The one exception for what a submitter got wrong; everything else is an internal error."""

from __future__ import annotations


class SubmissionError(Exception):
    """A problem the submitter can fix. Its message is shown as is on the page, the API and the CLI."""


class DeviceOutOfMemory(Exception):
    """A batch did not fit in the device's memory; the engine retries the rest with smaller batches.

    done: how many leading examples of the call were predicted (and written) before it ran out."""

    def __init__(self, done: int = 0):
        super().__init__(f"out of device memory after {done} examples")
        self.done = done


class RunStopped(Exception):
    """A predictor's call ended early because stop() was called from another thread (time limit, cancel)."""

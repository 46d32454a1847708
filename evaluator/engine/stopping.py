"""Ending an evaluation from another thread: the worker's watchdog stops a run past its time limit, or one that
was cancelled or lost its lease, even while the model is inside a single call that would never return."""

from __future__ import annotations

import contextlib
import threading

from plugins.errors import RunStopped


class Stopper:
    """stop(reason) makes the evaluation raise reason: at the next batch, or at once inside a predictor that
    can interrupt its framework (StreamingPredictor.stop, e.g. onnxruntime's terminate flag)."""

    def __init__(self):
        self.reason: BaseException | None = None
        self._predictor = None
        self._lock = threading.Lock()

    def attach(self, predictor) -> None:
        with self._lock:
            self._predictor = predictor
            stopped = self.reason is not None
        if stopped:
            _interrupt(predictor)

    def stop(self, reason: BaseException) -> None:
        with self._lock:
            if self.reason is not None:
                return
            self.reason = reason
            predictor = self._predictor
        if predictor is not None:
            _interrupt(predictor)

    def check(self) -> None:
        if self.reason is not None:
            raise self.reason

    @contextlib.contextmanager
    def raising_its_reason(self):
        """Inside, the RunStopped of a predictor interrupted by stop() is raised as the stop's reason."""
        try:
            yield
        except RunStopped:
            if self.reason is None:
                raise
            raise self.reason from None


def _interrupt(predictor) -> None:
    if hasattr(predictor, "stop"):
        predictor.stop()

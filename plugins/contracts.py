"""What each plugin kind must provide. Shapes: N examples, C classes, k stored top classes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from plugins.predictions import Predictions
from plugins.recipe import Recipe
from plugins.testset import LabelSetData, TestSetManifest


@dataclass(frozen=True)
class ModelSource:
    """What the submitter gave: an uploaded file, an identifier (e.g. timm:resnet18), or both."""

    file: Path | None = None
    identifier: str = ""


@dataclass(frozen=True)
class ModelInfo:
    """What a submit-time check learned about a model: shown with the submission, stored with it."""

    num_classes: int
    recipe_from_model: dict = field(default_factory=dict)  # recipe field -> value the model declares itself
    details: dict = field(default_factory=dict)  # e.g. opset, input shape, parameter count
    name: str = ""  # the name the model gives itself, the default submission name
    family: str = ""  # the architecture family, where the format can tell (timm: its module, e.g. "resnet")


@dataclass
class Score:
    """What a label protocol makes of the predictions.

    metrics: name -> value (accuracies as fractions); intervals: name -> 95% (low, high); counts: name -> int;
    correct: bool [N], top-1 right on each example (False where not scored), for paired tests between models,
    or None where the protocol has no single notion of right; per_example: float [N], the headline metric's
    value on each example (NaN where not scored), which slices average; curves: name -> [[x, y], ...].
    The small-slice rule (leaderboard/disclosure.py) reads counts: counts["scored"] is how many examples the
    metrics are over, a metric over other examples records its own count under its name, and a curve under
    "curves.<name>" (the fewest examples it says something about), without which it is shown to staff only.
    """

    metrics: dict[str, float]
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    correct: np.ndarray | None = None
    per_example: np.ndarray | None = None
    curves: dict[str, list] = field(default_factory=dict)


class Predictor(Protocol):
    provider: str  # what actually runs the model, e.g. "CPUExecutionProvider"

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """float32 [n, 3, H, W] in, float32 [n, C] scores out (logits or probabilities, per the recipe)."""


class StreamingPredictor(Predictor, Protocol):
    """Optional extras a predictor may offer; the engine uses each one the predictor has.

    A predictor without them gets normalised float32 batches one at a time through predict()."""

    def predict_into(
        self, pixels: np.ndarray, out: np.ndarray, recipe: Recipe, batch_size: int, on_batch: Callable[[int], None]
    ) -> None:
        """uint8 [N, S, S, 3] pixels in (normalise them itself, e.g. on its device); float32 scores written to
        out [N, C]; on_batch(examples done) after each batch. Raises DeviceOutOfMemory(done) when a batch does
        not fit, having written the first `done` rows, so the engine can go on with smaller batches."""

    def settle_precision(
        self, sample: Callable[[], tuple[np.ndarray, np.ndarray | None]], recipe: Recipe, policy: str
    ) -> dict:
        """Picks the precision to run in (e.g. bfloat16 where it leaves a float32 run's predictions on a sample
        intact) and returns what it compared, for the record. sample() gives uint8 pixels spread over the test
        set and their original labels (or None); it is called only if needed. policy: see plugins/precision.py."""

    def close(self) -> None:
        """Gives back what the predictor holds on its device, at the end of the evaluation."""

    def stop(self) -> None:
        """Called from another thread (the worker's watchdog): ends the call in progress as soon as the framework
        allows, that call raising RunStopped, and every later one too. Without it a run stops at the next batch."""

    def peak_memory(self) -> dict | None:
        """{"bytes": peak, "kind": "device"} measured by the framework since load, or None if it cannot tell."""


class ModelFormat(Protocol):
    name: str
    file_suffix: str  # how a stored upload of this format is named, e.g. ".onnx"

    def inspect(self, source: ModelSource, num_classes: int) -> ModelInfo:
        """Checks a model at submit time, before anything is queued, cheaply. Raises SubmissionError."""

    def load(self, source: ModelSource, recipe: Recipe, num_classes: int) -> Predictor:
        """Loads the model on the worker, never downloading. Raises SubmissionError for the submitter's problems."""

    def cost(self, source: ModelSource, recipe: Recipe, num_classes: int) -> dict:
        """Optional: {"parameters": count, "macs": multiply-accumulates per image at the recipe's input size}."""


class TestSetReader(Protocol):
    name: str
    source_files: tuple[str, ...]  # the raw files it builds from; their checksums identify a version

    def fingerprint(self, source: Path, images: Path | None = None) -> dict[str, str]:
        """What identifies the raw files: importing the same again changes nothing."""

    def import_testset(self, source: Path, dest: Path, version: int, images: Path | None = None) -> TestSetManifest:
        """Builds version `version` of a hidden test set in dest from the raw files in source, with its labels.

        images: where the images are, for readers whose images live apart from their annotations."""

    def images(self, root: Path, manifest: TestSetManifest) -> Iterator[Image.Image]:
        """Yields the test set's images as RGB PIL images, in the test set's official order."""


@dataclass(frozen=True)
class Column:
    """One column of a protocol's leaderboard: the metric it shows, its title, and which way is better.

    Boards sort by any of their columns, losses (lower_is_better) ascending by default, the rest descending."""

    metric: str
    title: str
    lower_is_better: bool = False
    description: str = ""  # a longer name, where the title alone would not say enough


class LabelProtocol(Protocol):
    name: str
    headline: str  # the metric leaderboards rank by (its column says which way is better)
    headline_is_proportion: bool  # a share of examples right (Wilson intervals) rather than a mean of scores
    # The board's columns, the headline's first; optionally `other_metrics`, Columns for the metrics it reports
    # that have no column on the board (shown on the submission page), so that their titles and direction are
    # known too. leaderboard/columns.py reads both; a third party's protocol gets a sortable board from them.
    columns: tuple[Column, ...]

    def score(self, predictions: Predictions, labels: LabelSetData) -> Score:
        """Scores the predictions against this protocol's labels. Vectorised, no per-example loop."""


class Metric(Protocol):
    name: str

    def __call__(self, predictions: Predictions, target: np.ndarray) -> float:
        """A number from the stored predictions and integer targets [N]."""


class Slicer(Protocol):
    name: str

    def slices(self, root: Path, manifest: TestSetManifest) -> dict[str, np.ndarray]:
        """Slice name -> boolean mask [N] of the examples in it; {} where the slicer does not apply. The same masks
        serve every label set of the test set: the engine asks once per evaluation or re-scoring.

        root is the test set's folder, for slicers that read a label set or annotations (e.g. label status)."""


class Summary(Protocol):
    name: str

    def summarise(self, root: Path, manifest: TestSetManifest, score: Score) -> dict | None:
        """One figure about a label set's score, shown beside the worst slices: {"value": float, ...anything else
        JSON can hold}, or None where it does not apply to this test set or protocol."""

"""The preprocessing recipe: one frozen value, resolved in one place, stored and shown with every result."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from plugins.errors import SubmissionError

RESIZE_MODES = ("shorter", "squash")
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos", "box")
VALUE_RANGES = (1.0, 255.0)
CHANNEL_ORDERS = ("RGB", "BGR")
OUTPUT_KINDS = ("logits", "probabilities")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# ONNX metadata_props keys a model may carry to declare its own recipe (documented in the README).
METADATA_PREFIX = "zooboard."


@dataclass(frozen=True)
class Recipe:
    """How a test image becomes the model's input.

    The image is resized (its shorter side to input_size / crop_pct, or squashed to a square of that size),
    centre-cropped to input_size x input_size, scaled to 0..value_range, normalised with (x - mean) / std per
    channel (mean and std in the same units as the values: ImageNet's 0.485 for 0-1, Caffe's 123.7 for 0-255)
    and laid out NCHW in channel_order. output says whether the model returns logits or probabilities.
    """

    input_size: int = 224
    resize: str = "shorter"
    crop_pct: float = 1.0
    interpolation: str = "bilinear"
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    value_range: float = 1.0
    channel_order: str = "RGB"
    output: str = "logits"

    def __post_init__(self):
        _check(8 <= self.input_size <= 1024, f"input size must be between 8 and 1024 pixels, not {self.input_size}")
        _check(self.resize in RESIZE_MODES, f"resize must be one of {', '.join(RESIZE_MODES)}, not {self.resize!r}")
        _check(0.05 <= self.crop_pct <= 1.0, f"crop fraction must be between 0.05 and 1, not {self.crop_pct}")
        _check(
            self.interpolation in INTERPOLATIONS,
            f"interpolation must be one of {', '.join(INTERPOLATIONS)}, not {self.interpolation!r}",
        )
        _check(len(self.mean) == 3 and len(self.std) == 3, "mean and std need three values each (R G B)")
        # NaN or infinity would flow silently into every normalised pixel (and cannot be stored as JSON)
        _check(all(map(math.isfinite, self.mean)), f"every mean value must be a finite number, not {list(self.mean)}")
        _check(all(map(math.isfinite, self.std)), f"every std value must be a finite number, not {list(self.std)}")
        _check(all(s > 0 for s in self.std), f"every std value must be positive, not {list(self.std)}")
        _check(self.value_range in VALUE_RANGES, f"value range must be 1 or 255, not {self.value_range}")
        _check(self.channel_order in CHANNEL_ORDERS, f"channel order must be RGB or BGR, not {self.channel_order!r}")
        _check(self.output in OUTPUT_KINDS, f"output must be logits or probabilities, not {self.output!r}")

    @classmethod
    def from_dict(cls, values: dict, base: Recipe | None = None) -> Recipe:
        """Merges values over base (or the defaults); unknown keys and malformed values are the submitter's error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        _check(not unknown, f"unknown preprocessing keys: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        try:
            cleaned = {key: _coerce(key, value) for key, value in values.items() if value is not None}
        except (TypeError, ValueError) as error:
            raise SubmissionError(f"malformed preprocessing value: {error}") from None
        return replace(base or cls(), **cleaned)

    @classmethod
    def from_metadata(cls, props: dict[str, str], base: Recipe | None = None) -> Recipe:
        return cls.from_dict(recipe_values_from_metadata(props), base)

    def to_dict(self) -> dict:
        values = asdict(self)
        values["mean"], values["std"] = list(self.mean), list(self.std)
        return values

    def to_metadata(self) -> dict[str, str]:
        return {
            METADATA_PREFIX + key: ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
            for key, value in self.to_dict().items()
        }

    def channel_indices(self) -> list[int]:
        """The RGB channel each of the model's input channels takes, in order."""
        return [2, 1, 0] if self.channel_order == "BGR" else [0, 1, 2]

    def scale_and_offset(self) -> tuple[np.ndarray, np.ndarray]:
        """float32 (scale, offset) per channel, in the model's channel order: input = pixel * scale + offset."""
        mean, std = np.array(self.mean, np.float64), np.array(self.std, np.float64)
        channels = self.channel_indices()
        return (self.value_range / 255.0 / std).astype(np.float32)[channels], (-mean / std).astype(np.float32)[channels]

    def geometry_key(self) -> str:
        """Identifies the decoded-and-resized pixels; normalisation is not part of it, so caches are shared."""
        geometry = [self.input_size, self.resize, self.crop_pct, self.interpolation]
        return hashlib.sha256(json.dumps(geometry).encode()).hexdigest()[:16]


RECIPE_FIELDS = tuple(f.name for f in fields(Recipe))


def recipe_sources(submitted: dict, from_model: dict, testset_defaults: dict) -> dict[str, str]:
    """For each recipe field, who set it: "submitter", "model", "test set" or "default" (shown with results)."""
    sources = {}
    for field_info in fields(Recipe):
        key = field_info.name
        if submitted.get(key) is not None:
            sources[key] = "submitter"
        elif key in from_model:
            sources[key] = "model"
        elif key in testset_defaults:
            sources[key] = "test set"
        else:
            sources[key] = "default"
    return sources


def recipe_values_from_metadata(props: dict[str, str]) -> dict[str, str]:
    """The zooboard.<field> keys of an ONNX model's metadata_props; other keys are not ours to judge."""
    known = {f.name for f in fields(Recipe)}
    return {
        key[len(METADATA_PREFIX) :]: value
        for key, value in props.items()
        if key.startswith(METADATA_PREFIX) and key[len(METADATA_PREFIX) :] in known
    }


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SubmissionError(message)


def _coerce(key: str, value):
    if key in ("mean", "std"):
        parts = value.replace(",", " ").split() if isinstance(value, str) else list(value)
        return tuple(float(part) for part in parts)
    if key == "input_size":
        # int() would silently truncate 32.5, and fail on infinity with an OverflowError
        if isinstance(value, float) and not value.is_integer():
            raise SubmissionError(f"input size must be a whole number of pixels, not {value}")
        return int(value)
    if key in ("crop_pct", "value_range"):
        return float(value)
    return str(value)

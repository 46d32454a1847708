"""A hidden test set on the worker's disk: a manifest, the images in the reader's format, label arrays."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class LabelSetInfo:
    name: str  # e.g. "original"
    protocol: str  # a label_protocol plugin name
    version: int
    file: str  # relative to the test set root


@dataclass(frozen=True)
class TestSetManifest:
    name: str
    version: int
    reader: str
    num_examples: int
    class_names: list[str]
    label_sets: list[LabelSetInfo] = field(default_factory=list)
    source: dict = field(default_factory=dict)  # where the raw files came from, with their checksums

    def save(self, root: Path) -> None:
        (root / MANIFEST).write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, root: Path) -> TestSetManifest:
        path = root / MANIFEST
        if not path.exists():
            raise FileNotFoundError(f"no test set at {root} (missing {MANIFEST}); run manage.py import_testset")
        values = json.loads(path.read_text())
        values["label_sets"] = [LabelSetInfo(**info) for info in values["label_sets"]]
        return cls(**values)


@dataclass(frozen=True)
class LabelSetData:
    """The labels of one label set: targets int64 [N] for single-label protocols."""

    info: LabelSetInfo
    targets: np.ndarray

    @classmethod
    def load(cls, root: Path, info: LabelSetInfo) -> LabelSetData:
        return cls(info, np.load(root / info.file))

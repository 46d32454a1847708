"""A hidden test set on the worker's disk: a manifest, the images in the reader's format, label arrays."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

MANIFEST = "manifest.json"


def testset_root(data_dir: Path, name: str, version: int | None = None) -> Path:
    """data_dir/testsets/NAME/vN: the given version, or the newest one on disk (FileNotFoundError if none)."""
    if version is None:
        versions = [int(path.parent.name[1:]) for path in (data_dir / "testsets" / name).glob(f"v*/{MANIFEST}")]
        if not versions:
            raise FileNotFoundError(f"test set {name!r} is not imported; run manage.py import_testset {name}")
        version = max(versions)
    return data_dir / "testsets" / name / f"v{version}"


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
    source: dict = field(default_factory=dict)  # the raw files it was built from, with their checksums
    default_preprocessing: dict = field(default_factory=dict)  # recipe values natural for these images

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

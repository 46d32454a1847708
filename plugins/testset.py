"""A hidden test set on the worker's disk: a manifest, the images in the reader's format, label arrays."""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, field, replace
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
    name: str  # e.g. "original", "clean"
    protocol: str  # a label_protocol plugin name
    version: int
    file: str  # an .npz of named arrays, relative to the test set root
    title: str = ""  # shown on the site, e.g. "Clean labels (cleanlab, human-validated)"
    parameters: dict = field(default_factory=dict)  # how it was built, e.g. {"plausible_share": 0.1}


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
    superclasses: dict = field(default_factory=dict)  # superclass name -> its class indices
    annotations: dict = field(default_factory=dict)  # per-example annotations for slicers: {"file", "names"}

    def save(self, root: Path) -> None:
        partial = root / f"{MANIFEST}.partial"
        partial.write_text(json.dumps(asdict(self), indent=2))
        partial.replace(root / MANIFEST)  # workers reading it never see half a manifest

    def current_label_set(self, name: str, version: int | None = None) -> LabelSetInfo | None:
        """The named label set at the given version, or its newest version; None if there is no such one."""
        versions = [info for info in self.label_sets if info.name == name and version in (None, info.version)]
        return max(versions, key=lambda info: info.version, default=None)

    def current_label_sets(self) -> list[LabelSetInfo]:
        return [self.current_label_set(name) for name in dict.fromkeys(info.name for info in self.label_sets)]

    @classmethod
    def load(cls, root: Path) -> TestSetManifest:
        path = root / MANIFEST
        if not path.exists():
            raise FileNotFoundError(f"no test set at {root} (missing {MANIFEST}); run manage.py import_testset")
        values = json.loads(path.read_text())
        values = {**values, "label_sets": [LabelSetInfo(**info) for info in values["label_sets"]]}
        return cls(**values)


@dataclass(frozen=True)
class LabelSetData:
    """The arrays of one label set version, each with the examples along its first axis.

    Single-label protocols use targets int64 [N]; others name their own arrays (see each protocol).
    """

    info: LabelSetInfo
    arrays: dict[str, np.ndarray]

    @property
    def targets(self) -> np.ndarray:
        return self.arrays["targets"]

    def __len__(self) -> int:
        return len(next(iter(self.arrays.values())))

    @classmethod
    def load(cls, root: Path, info: LabelSetInfo) -> LabelSetData:
        return cls(info, _read_arrays(root / info.file))

    @staticmethod
    def save(root: Path, info: LabelSetInfo, arrays: dict[str, np.ndarray]) -> None:
        (root / info.file).parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(root / info.file, **arrays)


@functools.lru_cache(maxsize=64)
def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Label files never change in place (a new version is a new file), so re-scoring reads each once."""
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    for values in arrays.values():
        values.flags.writeable = False
    return arrays


def label_arrays_by_protocol(root: Path, manifest: TestSetManifest, protocol: str) -> dict[str, np.ndarray] | None:
    """The arrays of the current label set scored by `protocol`, or None if the test set has none."""
    for info in manifest.current_label_sets():
        if info.protocol == protocol:
            return _read_arrays(root / info.file)
    return None


def reference_targets(root: Path, manifest: TestSetManifest) -> np.ndarray | None:
    """One label per example from the test set's first label set that has them (a reader lists the labels as
    published first), or None: what a check that needs some labels, not a protocol's, compares against."""
    for info in manifest.current_label_sets():
        arrays = _read_arrays(root / info.file)
        if "targets" in arrays:
            return arrays["targets"]
    return None


def add_label_set_version(
    root: Path, manifest: TestSetManifest, name: str, arrays: dict[str, np.ndarray], title: str = ""
) -> tuple[TestSetManifest, LabelSetInfo]:
    """Writes arrays as the next version of label set `name`; earlier versions stay, for their results.

    The arrays must match the current version's names and shapes (a correction, not a new kind of label
    set); integer labels must name a class of the test set (or be -1 where a label is optional).
    """
    current = manifest.current_label_set(name)
    if current is None:
        raise ValueError(
            f"test set {manifest.name} has no label set {name!r}; "
            f"it has {', '.join(info.name for info in manifest.current_label_sets())}"
        )
    previous = _read_arrays(root / current.file)
    if set(arrays) != set(previous):
        raise ValueError(f"{name} needs arrays {sorted(previous)}; the file has {sorted(arrays)}")
    for key, values in arrays.items():
        if values.shape != previous[key].shape:
            raise ValueError(
                f"array {key!r} has shape {values.shape}; {name} v{current.version} has {previous[key].shape}"
            )
        if (
            np.issubdtype(values.dtype, np.integer)
            and np.issubdtype(previous[key].dtype, np.integer)
            and key != "status"
            and (values.min() < -1 or values.max() >= len(manifest.class_names))
        ):
            raise ValueError(f"array {key!r} holds labels outside 0..{len(manifest.class_names) - 1}")
    version = current.version + 1
    info = LabelSetInfo(
        name, current.protocol, version, f"labels/{name}-v{version}.npz", title or current.title, current.parameters
    )
    LabelSetData.save(root, info, arrays)
    updated = replace(manifest, label_sets=[*manifest.label_sets, info])
    updated.save(root)
    return updated, info


def read_annotations(root: Path, manifest: TestSetManifest) -> dict[str, np.ndarray]:
    """The test set's per-example annotations for slicers ({} when it has none)."""
    return _read_arrays(root / manifest.annotations["file"]) if manifest.annotations else {}

"""File checksums, for test-set provenance and for recognising a model file submitted twice."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_checksums(folder: Path, names: tuple[str, ...]) -> dict[str, str]:
    """name -> sha256 of the named files of a test set's source folder: the test set's provenance."""
    return {name: file_sha256(folder / name) for name in names}


def source_fingerprint(source: Path, names: tuple[str, ...], images: Path | None = None) -> dict[str, str]:
    """What a test set was built from: its annotation files' checksums, and its images (an archive's
    checksum, or a folder's path: a 6 GB val copy is not hashed on every import)."""
    fingerprint = source_checksums(source, names)
    if images is not None:
        fingerprint["images"] = file_sha256(images) if images.is_file() else str(images.resolve())
    return fingerprint

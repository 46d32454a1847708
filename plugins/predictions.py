"""Per-example predictions as stored on the worker: enough to re-score under any label set, no model run.

Every loss is computed from log-probabilities kept in float32 (a float16 store once moved the soft
cross-entropy of ResNet20 from 1.2002 to 1.2341). What nearly every metric reads is kept compact and read
whole: the top-k classes and their log-probabilities, and each example's sum of squared probabilities (the
Brier score's label-free part). The full [N, C] matrix is read a row at a time, only for the examples whose
label lies outside their top k: re-scoring a corrected ImageNet label set reads a few percent of it.

Stored as an uncompressed .npz (numpy's own container; np.load opens it), read back by PredictionsFile.
"""

from __future__ import annotations

import io
import mmap
import os
import struct
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import numpy as np

from plugins.errors import SubmissionError

STORED_TOP_K = 5  # top-5 is the widest top-k any protocol reads
PROBABILITY_FLOOR = 1e-12  # a model declared to output probabilities may give exactly 0: its loss stays finite
CHUNK_ROWS = 4096  # rows converted at a time, so the float64 work never needs a second full-size copy
LOG_PROBS = "log_probs"
COMPACT = ("top_classes", "top_log_probs", "square_sums")


class Rows(Protocol):
    """The full float32 log-probability matrix, or a view of some of its rows, read on demand."""

    num_classes: int

    def take(self, indices: np.ndarray) -> np.ndarray:
        """float32 [len(indices), C]: the rows at the given example indices (sorted ascending)."""

    def whole(self) -> np.ndarray:
        """float32 [N, C]: every row, without the copy a take() of all of them makes where they are in memory."""


@dataclass
class InMemoryRows:
    matrix: np.ndarray

    @property
    def num_classes(self) -> int:
        return self.matrix.shape[1]

    def take(self, indices: np.ndarray) -> np.ndarray:
        return self.matrix[indices]

    def whole(self) -> np.ndarray:
        return self.matrix


@dataclass
class SubsetRows:
    rows: Rows
    kept: np.ndarray  # indices into rows

    @property
    def num_classes(self) -> int:
        return self.rows.num_classes

    def take(self, indices: np.ndarray) -> np.ndarray:
        return self.rows.take(self.kept[indices])

    def whole(self) -> np.ndarray:
        return self.rows.take(self.kept)


@dataclass(frozen=True)
class Predictions:
    """top_classes int16 (int32 past 32,767 classes) [N, k] best first; top_log_probs float32 [N, k];
    square_sums float32 [N], sum over classes of p squared; rows: every class's log-probability, on demand."""

    top_classes: np.ndarray
    top_log_probs: np.ndarray
    square_sums: np.ndarray
    rows: Rows = field(repr=False)

    @classmethod
    def from_logits(cls, logits: np.ndarray, overwrite: bool = False) -> Predictions:
        """From a model's scores [N, C]. overwrite: the float32 array itself becomes the log-probabilities (no
        second copy of an ImageNet-sized matrix); otherwise it is left as it is."""
        return cls._from_scores(logits, _log_softmax, overwrite)

    @classmethod
    def from_probabilities(cls, probs: np.ndarray, overwrite: bool = False) -> Predictions:
        """From probabilities [N, C] (a model declared to output them); overwrite as above."""
        return cls._from_scores(probs, lambda chunk: np.log(np.maximum(chunk, PROBABILITY_FLOOR)), overwrite)

    @classmethod
    def _from_scores(
        cls, scores: np.ndarray, to_log_probs: Callable[[np.ndarray], np.ndarray], overwrite: bool
    ) -> Predictions:
        if not (overwrite and scores.dtype == np.float32 and scores.flags.c_contiguous):
            scores = np.array(scores, dtype=np.float32, order="C")
        count, num_classes = scores.shape
        k = min(STORED_TOP_K, num_classes)
        index_type = np.int16 if num_classes <= np.iinfo(np.int16).max else np.int32
        top_classes, top_log_probs = np.empty((count, k), index_type), np.empty((count, k), np.float32)
        square_sums = np.empty(count, np.float32)
        for start in range(0, count, CHUNK_ROWS):
            log_probs = to_log_probs(scores[start : start + CHUNK_ROWS].astype(np.float64))
            # argpartition, then a sort of only k columns: a full argsort of [N, 1000] would dominate
            top = np.argpartition(-log_probs, k - 1, axis=1)[:, :k]
            top_values = np.take_along_axis(log_probs, top, axis=1)
            order = np.argsort(-top_values, axis=1, kind="stable")
            top_classes[start : start + len(top)] = np.take_along_axis(top, order, axis=1)
            top_log_probs[start : start + len(top)] = np.take_along_axis(top_values, order, axis=1)
            square_sums[start : start + len(top)] = np.exp(2 * log_probs).sum(axis=1)
            scores[start : start + len(top)] = log_probs
        return cls(top_classes, top_log_probs, square_sums, InMemoryRows(scores))

    def __len__(self) -> int:
        return len(self.top_classes)

    @property
    def num_classes(self) -> int:
        return self.rows.num_classes

    @property
    def confidence(self) -> np.ndarray:
        """float64 [N]: the probability of each example's top-1 class."""
        return np.exp(self.top_log_probs[:, 0].astype(np.float64))

    def log_prob_of(self, targets: np.ndarray) -> np.ndarray:
        """float64 [N]: log p(target) per example (NaN where the target is -1, no label). From the top k where the
        target is among them; the rest from the full rows, reading only those."""
        targets = np.asarray(targets, np.int64)
        hit = self.top_classes == targets[:, None]
        found = hit.any(axis=1)
        values = np.full(len(targets), np.nan)
        values[found] = self.top_log_probs[hit]  # one hit per found row: a row's top classes differ
        outside = np.flatnonzero(~found & (targets >= 0))
        if len(outside):
            values[outside] = self.rows.take(outside)[np.arange(len(outside)), targets[outside]]
        return values

    def log_probs(self) -> np.ndarray:
        """float32 [N, C]: every row (the whole matrix: for label distributions over all classes, and for saving).
        Not to be written to: it may be the predictions' own."""
        return self.rows.whole()

    def subset(self, mask: np.ndarray) -> Predictions:
        kept = np.flatnonzero(mask)
        return Predictions(
            self.top_classes[kept], self.top_log_probs[kept], self.square_sums[kept], SubsetRows(self.rows, kept)
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a name of its own: two writers (an attempt and the one that took over) never share the partial file
        partial = path.with_name(f"{path.stem}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}.npz")
        np.savez(
            partial,
            top_classes=self.top_classes,
            top_log_probs=self.top_log_probs,
            square_sums=self.square_sums,
            log_probs=self.log_probs(),
        )
        partial.replace(path)  # readers never see half a file

    @classmethod
    def load(cls, file: IO[bytes] | Path) -> Predictions:
        """Reads the compact arrays now and the rows on demand, from a seekable file kept open until close()
        (a replacement renamed into place meanwhile does not mix two versions)."""
        return PredictionsFile(file).predictions()

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()

    def bytes_read(self) -> int | None:
        """How many bytes came from storage so far (None for predictions made in memory)."""
        return getattr(self.rows, "bytes_read", None)


def _log_softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class PredictionsFile:
    """A stored predictions file: its compact arrays read whole, and a Rows over its log_probs member.

    Written out because np.load reads a member whole and zipfile's seek within a member reads everything
    before the target: re-scoring needs a few rows of a 200 MB member, at their offsets. np.savez stores
    members uncompressed, so a row is at the member's data offset plus its index times the row's size."""

    def __init__(self, file: IO[bytes] | Path):
        self._file = file.open("rb") if isinstance(file, Path) else file
        self.bytes_read = 0
        self._matrix = None
        try:
            self._read_compact()
        except BaseException:
            self._file.close()
            raise

    def _read_compact(self) -> None:
        with zipfile.ZipFile(self._file) as archive:
            infos = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
            self._arrays = {
                name: _read_member(archive, infos[name]) for name in infos if name != LOG_PROBS and name != "probs"
            }
            self.bytes_read += sum(infos[name].file_size for name in self._arrays)
            self._legacy = "probs" in infos
            if self._legacy:
                self._arrays["probs"] = _read_member(archive, infos["probs"])
            else:
                self._locate_rows(infos[LOG_PROBS])

    def _locate_rows(self, info: zipfile.ZipInfo) -> None:
        if info.compress_type != zipfile.ZIP_STORED:
            raise ValueError("stored predictions must be an uncompressed .npz (np.savez)")
        self._file.seek(info.header_offset)
        local_header = self._file.read(30)
        name_length, extra_length = struct.unpack("<HH", local_header[26:30])
        self._file.seek(info.header_offset + 30 + name_length + extra_length)
        version = np.lib.format.read_magic(self._file)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = reader(self._file)
        if fortran_order or dtype != np.float32 or len(shape) != 2:
            raise ValueError(f"stored log-probabilities must be C-ordered float32 [N, C], not {dtype} {shape}")
        self._offset, self.shape = self._file.tell(), shape
        self.num_classes = shape[1]
        self._matrix = self._mapped()

    def _mapped(self) -> np.ndarray | None:
        """The rows mapped into memory where the file is an OS file (a local disk): a gather of thousands of rows
        is then one numpy call, not a read per row. None elsewhere (an object store's file): rows are read."""
        try:
            mapping = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return None
        return np.ndarray(self.shape, np.float32, buffer=mapping, offset=self._offset)

    def predictions(self) -> Predictions:
        if self._legacy:
            return _from_legacy(self._arrays, self)
        return Predictions(
            self._arrays["top_classes"], self._arrays["top_log_probs"], self._arrays["square_sums"], self
        )

    def take(self, indices: np.ndarray) -> np.ndarray:
        """Reads the rows at the sorted indices, one read per run of consecutive ones."""
        row_bytes = self.num_classes * 4
        if self._matrix is not None:
            self.bytes_read += len(indices) * row_bytes
            return self._matrix[indices]
        out = np.empty((len(indices), self.num_classes), np.float32)
        if not len(indices):
            return out
        runs = np.flatnonzero(np.diff(indices) != 1) + 1
        for first, last in zip(np.r_[0, runs], np.r_[runs, len(indices)], strict=True):
            self._file.seek(self._offset + int(indices[first]) * row_bytes)
            wanted = (last - first) * row_bytes
            data = self._file.read(wanted)
            if len(data) != wanted:
                raise ValueError("the stored predictions file is shorter than its header says")
            out[first:last] = np.frombuffer(data, np.float32).reshape(last - first, self.num_classes)
            self.bytes_read += wanted
        return out

    def whole(self) -> np.ndarray:
        return self.take(np.arange(self.shape[0]))

    def close(self) -> None:
        self._matrix = None  # the mapping closes once no array refers to it
        self._file.close()


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    with archive.open(info) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _from_legacy(arrays: dict[str, np.ndarray], file: PredictionsFile) -> Predictions:
    """Predictions stored before log-probabilities were kept (float16 probabilities): read whole and converted,
    as exact as they were stored and no more, until the submission is evaluated again."""
    file.bytes_read += arrays["probs"].nbytes
    file.close()
    return Predictions.from_probabilities(arrays["probs"], overwrite=False)


NOT_FINITE = "the model's output contains NaN or infinite values"


def check_scores_shape(scores_shape: tuple, batch_size: int, num_classes: int) -> None:
    """A model's scores for a batch must be [batch, classes]; anything else is the submitter's to fix."""
    if tuple(scores_shape) != (batch_size, num_classes):
        raise SubmissionError(
            f"the model returned an output of shape {list(scores_shape)} for a batch of "
            f"{batch_size}; expected [{batch_size}, {num_classes}]"
        )

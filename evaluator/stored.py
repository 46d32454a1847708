"""What a worker reads and writes besides the database, through Django's storage API (config/settings.py's
STORAGES), so that a worker on any host reaches it: a submission's uploaded model file (the "default" storage,
where the site wrote it) and its stored predictions (the "predictions" storage, which re-scoring reads)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

from django.core.files import File
from django.core.files.storage import Storage, storages

from plugins.predictions import Predictions

COPY_CHUNK = 1 << 20


def predictions_name(submission_id: int) -> str:
    return f"{submission_id}.npz"


def save_predictions(submission_id: int, predictions: Predictions) -> None:
    """Stores a submission's predictions, replacing any earlier ones. On a file system they are written beside
    and renamed into place (Predictions.save), so a re-scoring never reads half a file; elsewhere they are
    written to a scratch file first and sent in one request, which object stores make visible whole."""
    storage, name = storages["predictions"], predictions_name(submission_id)
    local = _local_path(storage, name)
    if local is not None:
        predictions.save(local)
        return
    with TemporaryDirectory(prefix="zooboard-predictions-") as scratch:
        path = Path(scratch) / name
        predictions.save(path)
        with path.open("rb") as file:
            storage.save(name, File(file, name=name))


def load_predictions(submission_id: int) -> Predictions | None:
    """A submission's stored predictions, or None where it has none (evaluated before they were kept). Their
    compact part is read at once; the file stays open for the rows read on demand until the caller's close()."""
    storage, name = storages["predictions"], predictions_name(submission_id)
    if not storage.exists(name):
        return None
    file = storage.open(name, "rb")
    try:
        return Predictions.load(file)
    except BaseException:
        file.close()
        raise


@contextmanager
def model_file(field) -> Iterator[Path | None]:
    """The uploaded model file as a path on this host, for the runtimes that open files by name: the file itself
    on a local file system, else a copy in a scratch folder removed afterwards. None where there is no file (a
    timm identifier)."""
    if not field:
        yield None
        return
    local = _local_path(field.storage, field.name)
    if local is not None:
        yield local
        return
    with TemporaryDirectory(prefix="zooboard-model-") as scratch:
        path = Path(scratch) / Path(field.name).name
        with field.open("rb") as source, path.open("wb") as target:
            shutil.copyfileobj(source, target, COPY_CHUNK)
        yield path


def _local_path(storage: Storage, name: str) -> Path | None:
    try:
        return Path(storage.path(name))
    except NotImplementedError:  # object storage: no path on this host
        return None

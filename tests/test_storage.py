"""Uploads and stored predictions through Django's storage API (evaluator/stored.py): on the local file system and
on an S3-compatible object store (a real server process speaking S3's protocol), the same results."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from evaluator import stored
from evaluator.tasks import rescore_label_set
from leaderboard.models import Result, Status, Submission
from tests.conftest import run_python
from tests.integration.conftest import free_port
from tests.object_store import ObjectStore


@pytest.fixture(scope="module")
def object_store(tmp_path_factory):
    store = ObjectStore(tmp_path_factory.mktemp("s3"), free_port(), f"zooboard-{uuid.uuid4().hex[:8]}")
    yield store
    store.stop()


@pytest.fixture(params=["local", "s3"])
def storage(request, settings, tmp_path, object_store):
    """Each test once with the file system and once with the object store; yields the kind."""
    use(settings, request.param, tmp_path, object_store)
    return request.param


def same(a, b) -> bool:
    pairs = zip(
        (a.top_classes, a.top_log_probs, a.square_sums, a.log_probs()),
        (b.top_classes, b.top_log_probs, b.square_sums, b.log_probs()),
        strict=True,
    )
    return all(np.array_equal(x, y) for x, y in pairs)


def test_predictions_are_stored_replaced_and_read_back(storage, real_predictions, object_store, tmp_path):
    first, second = real_predictions("resnet20"), real_predictions("resnet56")
    assert stored.load_predictions(424242) is None  # never stored: re-scoring skips it
    stored.save_predictions(424242, first)
    assert same(stored.load_predictions(424242), first)
    stored.save_predictions(424242, second)  # an evaluation run again replaces them
    assert same(stored.load_predictions(424242), second)
    if storage == "s3":
        assert object_store.names("predictions/424242") == ["predictions/424242.npz"]
        assert not (tmp_path / "predictions").exists()
    else:
        assert sorted(p.name for p in (tmp_path / "predictions").iterdir()) == ["424242.npz"]  # no partial file


@pytest.mark.django_db
def test_a_worker_gets_the_uploaded_model_as_a_file_of_its_own(storage, cifar10, alice, model_path):
    data = model_path("resnet8").read_bytes()
    submission = Submission.objects.create(owner=alice, testset=cifar10, name="m", preprocessing={})
    submission.model_file.save("model.onnx", ContentFile(data))
    with stored.model_file(submission.model_file) as path:
        assert path.read_bytes() == data
        copied = path
    # a copy made for the run is removed afterwards; the file itself stays where the site stored it
    assert copied.exists() == (storage == "local")
    with storages["default"].open(submission.model_file.name, "rb") as kept:
        assert kept.read() == data
    with stored.model_file(Submission(model_identifier="timm:resnet18").model_file) as nothing:
        assert nothing is None


def use(settings, kind: str, tmp_path, object_store) -> None:
    if kind == "local":
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "predictions": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(tmp_path / "predictions"), "allow_overwrite": True},
            },
        }
        settings.MEDIA_ROOT = tmp_path / "media"
    else:
        settings.STORAGES = object_store.settings()


@pytest.mark.django_db
def test_re_scoring_reads_predictions_from_either_storage_alike(
    settings, tmp_path, object_store, cifar10, alice, real_predictions
):
    """The same predictions re-scored under the clean labels, kept on the file system and then in the object
    store, give the same figures (tests/test_rescore.py checks the figures themselves against the raw arrays);
    a loader that read another file, or half of one, would not."""
    figures = {}
    for kind in ("local", "s3"):
        use(settings, kind, tmp_path, object_store)
        ids = {}
        for name in ("resnet20", "resnet56"):
            submission = Submission.objects.create(
                owner=alice, testset=cifar10, name=f"{name} {kind}", preprocessing={}
            )
            Submission.objects.filter(pk=submission.pk).update(status=Status.DONE)
            stored.save_predictions(submission.pk, real_predictions(name))
            ids[name] = submission.pk
        report = rescore_label_set("cifar10", "clean")
        assert (report["rescored"], report["without_predictions"]) == (len(ids), 0)
        figures[kind] = {
            name: Result.objects.get(submission_id=pk, label_set__name="clean").metrics for name, pk in ids.items()
        }
        Submission.objects.filter(pk__in=ids.values()).update(status=Status.FAILED)  # not re-scored again
    assert figures["s3"] == figures["local"]
    assert figures["local"]["resnet56"]["top1"] != figures["local"]["resnet20"]["top1"]


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"ZOOBOARD_STORAGE": "s3"}, "ZOOBOARD_STORAGE=s3 needs ZOOBOARD_S3_BUCKET"),
        ({"ZOOBOARD_STORAGE": "nfs"}, "ZOOBOARD_STORAGE must be local or s3, not 'nfs'"),
    ],
)
def test_a_storage_setting_that_cannot_work_stops_start_up_with_a_sentence(env, error):
    started = run_python(
        "-c", "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup()", **env
    )
    assert started.returncode != 0 and error in started.stderr

"""A corrected label set is a new version: every stored prediction is re-scored against it without running a
model, older results stay, and the leaderboard shows the newest version by default."""

from __future__ import annotations

from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from evaluator.engine.scoring import score_all
from evaluator.stored import save_predictions
from leaderboard.importing import import_testset
from leaderboard.models import Result, Status, Submission
from plugins.annotations.cleanlab import CORRECTABLE, NON_AGREEMENT
from plugins.testset import TestSetManifest, testset_root
from tests.conftest import BUNDLED


@pytest.fixture
def cifar10_here(db, settings, tmp_path):
    """CIFAR-10 in a data folder of this test's own: it will get new label-set versions."""
    settings.ZOOBOARD_DATA_DIR = tmp_path / "data"
    testset, _ = import_testset("cifar10", BUNDLED)
    return testset


@pytest.fixture
def evaluated(cifar10_here, alice, settings, real_predictions):
    """ResNet20 and ResNet-8 done, their real predictions stored where a worker keeps them."""
    root = testset_root(settings.ZOOBOARD_DATA_DIR, "cifar10")
    submissions = {}
    for name in ("resnet20", "resnet8"):
        submission = Submission.objects.create(owner=alice, testset=cifar10_here, name=name, preprocessing={})
        save_predictions(submission.pk, real_predictions(name))
        submission.move_to(Status.RUNNING)
        submission.move_to(Status.SCORING)
        Result.objects.store(submission, score_all(real_predictions(name), root, TestSetManifest.load(root)))
        submission.move_to(Status.DONE)
        submissions[name] = submission
    return submissions


def corrected_clean_labels(root, path):
    """v2: the 32 non-agreement examples judged correct after all (their given label restored)."""
    with np.load(root / "labels" / "clean-v1.npz") as stored:
        arrays = {key: stored[key].copy() for key in stored.files}
    arrays["status"][arrays["status"] == NON_AGREEMENT] = CORRECTABLE
    np.savez(path, **arrays)
    return arrays


def test_rescoring_a_new_version_keeps_the_old_results(evaluated, settings, tmp_path, client, real_predictions):
    root = testset_root(settings.ZOOBOARD_DATA_DIR, "cifar10")
    arrays = corrected_clean_labels(root, tmp_path / "clean-v2.npz")
    call_command("import_labelset", "cifar10", "clean", str(tmp_path / "clean-v2.npz"), stdout=StringIO())
    out = StringIO()
    call_command("rescore", "--labelset", "clean", stdout=out)
    assert out.getvalue().startswith("re-scored 2 submissions against clean v2 in ")

    resnet20 = evaluated["resnet20"]
    versions = dict(resnet20.results.filter(label_set__name="clean").values_list("label_set__version", "metrics"))
    assert set(versions) == {1, 2}
    predicted = real_predictions("resnet20").top_classes[:, 0]
    kept = arrays["status"] != 3  # only "neither" is still dropped
    assert versions[2]["top1"] == pytest.approx((predicted[kept] == arrays["targets"][kept]).mean())
    assert versions[2]["top1"] != versions[1]["top1"]
    assert resnet20.results.get(label_set__name="clean", label_set__version=2).counts["non-agreement"] == 0

    rows = client.get("/api/testsets/cifar10/leaderboard/?label_set=clean").json()["rows"]
    assert {row["label_set_version"] for row in rows} == {2}
    page = client.get("/testsets/cifar10/?label_set=clean&version=1").content.decode()
    assert "version 1 (not the current version)" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda arrays: arrays.pop("status"), "clean needs arrays ['alternative', 'original', 'status', 'targets']"),
        (lambda arrays: arrays.update(targets=arrays["targets"][:100]), "array 'targets' has shape (100,)"),
        (lambda arrays: arrays["targets"].__setitem__(0, 10), "array 'targets' holds labels outside 0..9"),
    ],
)
def test_a_malformed_correction_is_refused_and_changes_nothing(cifar10_here, settings, tmp_path, change, message):
    root = testset_root(settings.ZOOBOARD_DATA_DIR, "cifar10")
    arrays = corrected_clean_labels(root, tmp_path / "unused.npz")
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(CommandError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        call_command("import_labelset", "cifar10", "clean", str(tmp_path / "bad.npz"))
    assert TestSetManifest.load(root).current_label_set("clean").version == 1
    assert cifar10_here.label_sets.get(name="clean", is_current=True).version == 1


def test_the_admin_action_queues_rescoring_on_a_worker(cifar10_here, staff, client, sent_tasks):
    client.force_login(staff)
    clean = cifar10_here.label_sets.get(name="clean")
    response = client.post("/admin/leaderboard/labelset/", {"action": "rescore", "_selected_action": [clean.pk]})
    assert response.status_code == 302
    assert sent_tasks == [("evaluator.rescore_label_set", {"args": ["cifar10", "clean", 1], "queue": "cpu"})]


def test_the_clean_board_follows_a_new_version(evaluated, settings, tmp_path, client, real_predictions):
    """Ranks of the v2 board come from the re-score alone (no page view computes them), and match the raw
    arrays; the v1 board stays as it was."""
    root = testset_root(settings.ZOOBOARD_DATA_DIR, "cifar10")
    with np.load(root / "labels" / "clean-v1.npz") as stored:
        v1 = {key: stored[key].copy() for key in stored.files}
    arrays = corrected_clean_labels(root, tmp_path / "clean-v2.npz")
    call_command("import_labelset", "cifar10", "clean", str(tmp_path / "clean-v2.npz"), stdout=StringIO())
    assert client.get("/api/testsets/cifar10/leaderboard/?label_set=clean").json()["rows"] == []  # not re-scored
    call_command("rescore", "--labelset", "clean", stdout=StringIO())

    def clean_top1(name, labels):
        predicted = real_predictions(name).top_classes[:, 0]
        kept = labels["status"] < 3  # clean, correctable, multi-label
        right = (predicted == labels["targets"]) | (predicted == labels["alternative"])
        return right[kept].mean()

    for version, labels in ((2, arrays), (1, v1)):
        board = client.get(f"/api/testsets/cifar10/leaderboard/?label_set=clean&version={version}").json()
        expected = sorted(evaluated, key=lambda name: -clean_top1(name, labels))
        assert board["version"] == version and [row["name"] for row in board["rows"]] == expected
        for row in board["rows"]:
            assert row["metrics"]["top1"] == pytest.approx(clean_top1(row["name"], labels))
        assert [row["rank"] for row in board["rows"]] == [1, 2]

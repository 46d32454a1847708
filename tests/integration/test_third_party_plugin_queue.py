"""A third-party format plugin through the whole path: the API checks the upload with it, a real worker with
the package installed evaluates it, the leaderboard ranks it."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from leaderboard.models import Status
from plugins import registry
from tests.helpers import post

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def worker_env(third_party_plugin):
    return {"PYTHONPATH": str(third_party_plugin)}


@pytest.fixture
def plugin_installed_here(third_party_plugin, monkeypatch):
    """This process (the site) finds the package too, as it would once pip-installed."""
    monkeypatch.syspath_prepend(str(third_party_plugin))
    monkeypatch.delitem(sys.modules, "zooboard_linear_npz", raising=False)  # imported by an earlier test
    monkeypatch.setattr(registry, "_entries", {kind: dict(entries) for kind, entries in registry._entries.items()})
    monkeypatch.setattr(registry, "_loaded", False)
    yield
    sys.modules.pop("zooboard_linear_npz", None)


def test_a_plugin_model_is_checked_evaluated_and_ranked(
    plugin_installed_here, queue_settings, cifar10, alice, api_as, tmp_path, wait_until_finished, client
):
    model = tmp_path / "linear.npz"
    rng = np.random.default_rng(5)
    np.savez(model, weight=rng.normal(0, 0.01, (3072, 10)).astype(np.float32), bias=np.zeros(10, np.float32))
    response = post(api_as(alice), {"model_file": model, "model_format": "linear-npz", "name": "Linear"})
    assert response.status_code == 201, response.json()
    submission = wait_until_finished(response.json()["id"])
    assert submission.status == Status.DONE, submission.error_message
    assert submission.provider == "numpy"
    rows = client.get("/api/testsets/cifar10/leaderboard/").json()["rows"]
    assert [row["name"] for row in rows] == ["Linear"]

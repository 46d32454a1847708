"""Helpers shared by several test modules (plain functions and constants, not fixtures: those live in conftest.py),
so that no test module imports from another."""

from __future__ import annotations

import csv
import json

import numpy as np

from evaluator.engine.scoring import score_all
from leaderboard.models import Result, Status, Submission
from plugins.recipe import Recipe
from plugins.testset import TestSetManifest
from tests.conftest import BUNDLED

# Caffe-style preprocessing: BGR channels, 0-255 values, per-channel means and stds on that scale
CAFFE = Recipe(
    input_size=32,
    crop_pct=1.0,
    mean=(123.7, 116.3, 103.5),
    std=(58.4, 57.1, 57.4),
    value_range=255.0,
    channel_order="BGR",
)


def post(api, fields: dict):
    """POSTs a submission form to the API (testset cifar10 unless given; model_file a path, opened here)."""
    fields = {"testset": "cifar10", **fields}
    path = fields.pop("model_file", None)
    if path is None:
        return api.post("/api/submissions/", fields, format="multipart")
    with open(path, "rb") as handle:
        return api.post("/api/submissions/", {**fields, "model_file": handle}, format="multipart")


def stored_score(top1, top5, slices=None, correct=None):
    """A score as the engine hands it to Result.objects.store, for page tests that need no model run."""
    return {
        "version": 1,
        "protocol": "original",
        "title": "Original labels",
        "headline": "top1",
        "metrics": {"top1": top1, "top5": top5},
        "intervals": {"top1": [top1 - 0.01, top1 + 0.01]},
        "counts": {"scored": 10_000},
        "summaries": {},
        "curves": {},
        "correct": correct,
        "slices": {
            slicer: {
                name: {"count": count, "metrics": {"top1": 0.5}, "intervals": {}, "counts": {}}
                for name, count in named.items()
            }
            for slicer, named in (slices or {}).items()
        },
    }


def finished_submission(testset, owner, name, top1, top5, hidden=False, slices=None, correct=None):
    """A done submission with a stored original-labels score of top1/top5, without running a model."""
    submission = Submission.objects.create(
        owner=owner, testset=testset, name=name, preprocessing={"input_size": 32}, hidden=hidden
    )
    for status in (Status.RUNNING, Status.SCORING):
        submission.move_to(status)
    slices = slices or {"class": {"cat": 3}}
    Result.objects.store(submission, {"original": stored_score(top1, top5, slices=slices, correct=correct)})
    submission.move_to(Status.DONE)
    return submission


def evaluated(testset, owner, name, predictions, root, **fields) -> Submission:
    """A done submission whose results the engine scored from a model's real stored predictions."""
    submission = Submission.objects.create(owner=owner, testset=testset, name=name, preprocessing={}, **fields)
    submission.move_to(Status.RUNNING)
    submission.move_to(Status.SCORING)
    Result.objects.store(submission, score_all(predictions, root, TestSetManifest.load(root)))
    submission.move_to(Status.DONE)
    return submission


def categories(votes):
    """The paper's rule, written out: index -> category for validated errors."""
    found = {}
    for record in votes:
        v = record["mturk"]
        if v["given"] >= 3:
            continue
        if v["guessed"] >= 3:
            found[record["id"]] = ("correctable", record["our_guessed_label"])
        elif v["both"] >= 3:
            found[record["id"]] = ("multi-label", record["our_guessed_label"])
        elif v["neither"] >= 3:
            found[record["id"]] = ("neither", None)
        else:
            found[record["id"]] = ("non-agreement", None)
    return found


def raw_truth() -> dict:
    """The labels as published, read without our code: labels, class names, cleanlab categories, CIFAR-10H."""
    with open(BUNDLED / "cifar10-test/cifar10_test_index.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    labels = np.array([int(row["label"]) for row in rows])
    names = {int(row["label"]): row["class_name"] for row in rows}
    found = categories(json.loads((BUNDLED / "cleanlab-label-errors/cifar10/cifar10_mturk.json").read_text()))
    status = np.array([found.get(index, ("clean", None))[0] for index in range(len(labels))])
    guessed = np.array([(found.get(index, (None, None))[1] or -1) for index in range(len(labels))], dtype=int)
    votes = np.load(BUNDLED / "cifar-10h/cifar10h-counts.npy").astype(float)
    return {
        "labels": labels,
        "names": [names[c] for c in range(10)],
        "status": status,
        "guessed": guessed,
        "votes": votes,
    }


def values_per_label_set(truth) -> dict[str, np.ndarray]:
    """Label set -> [N, C]: what predicting class c on example i scores under it (NaN rows: not scored)."""
    n, labels, status, guessed = len(truth["labels"]), truth["labels"], truth["status"], truth["guessed"]
    onehot = np.eye(10)[labels]
    clean = onehot.copy()
    clean[status == "correctable"] = np.eye(10)[guessed[status == "correctable"]]
    multi = status == "multi-label"
    clean[multi] = np.minimum(onehot[multi] + np.eye(10)[np.maximum(guessed[multi], 0)], 1)
    clean[np.isin(status, ("neither", "non-agreement"))] = np.nan
    shares = truth["votes"] / truth["votes"].sum(axis=1, keepdims=True)
    plausible = (shares >= 0.10).astype(float)
    plausible[plausible.sum(axis=1) == 0] = np.nan
    assert n == 10_000
    return {"original": onehot, "clean": clean, "plausible": plausible, "human": shares}

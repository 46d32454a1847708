"""Whole-board exports made ahead for real: a re-ranking committed here sends the task through the broker, a
real worker makes the exports into a Redis cache this process shares, and a download is then served from it."""

from __future__ import annotations

import time
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from leaderboard.board_cache import export_key
from leaderboard.boards import EXPORTS, BoardQuery
from leaderboard.models import TestSet
from tests.integration.conftest import require_services
from tests.integration.processes import Worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BOARD_CACHE_URL = "redis://127.0.0.1:6379/13"  # keys name the boards' stamps (UUIDs): no run sees another's


def test_a_worker_makes_the_exports_a_reranking_asks_for(
    django_db_setup, data_dir, tmp_path, cifar10, alice, settings, client, ranked
):
    require_services()
    queue = f"exports-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        **settings.CACHES,
        "boards": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": BOARD_CACHE_URL},
    }
    settings.ZOOBOARD_EXPORTS_AHEAD = True
    settings.ZOOBOARD_CPU_QUEUE = queue
    for index in range(5):
        ranked(cifar10, alice, f"model-{index}", 0.5 + index / 20)  # each commits: a re-ranking each
    # the worker starts once every entry is done: the asks wait in the broker meanwhile, and its reaper finds no
    # evaluation of these made-up submissions to take back
    worker = Worker(queue, tmp_path, data_dir, {"BOARD_CACHE_URL": BOARD_CACHE_URL})
    try:
        testset = TestSet.objects.prefetch_related("label_sets").get(pk=cifar10.pk)
        label_sets = testset.label_sets.all()  # the stamps of the last re-ranking, committed
        query = BoardQuery.parse(testset, QueryDict(), AnonymousUser())
        keys = {export: export_key(query, export, label_sets) for export in EXPORTS}
        deadline = time.monotonic() + 60
        while not all(caches["boards"].has_key(key) for key in keys.values()):
            assert time.monotonic() < deadline, worker.log_path.read_text()[-3000:]
            assert worker.is_alive(), worker.log_path.read_text()[-3000:]
            time.sleep(0.1)

        for export, lines in (("csv", query.csv_lines), ("json", query.json_chunks)):
            with CaptureQueriesContext(connection) as captured:
                response = client.get("/testsets/cifar10/", {"format": export})
                body = b"".join(response.streaming_content).decode()
            assert not [q for q in captured if "leaderboard_boardentry" in q["sql"]], "made again, not the worker's"
            assert body == "".join(lines())  # what the worker made is what this process makes from the board
            assert "model-4" in body
        assert "evaluator.make_board_exports" in worker.log_path.read_text()
    finally:
        worker.stop()

"""The Celery app; workers run `celery -A config worker -Q cpu`."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("zooboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["evaluator"])

EVALUATE_TASK = "evaluator.evaluate_submission"
RESCORE_TASK = "evaluator.rescore_label_set"
EXPORTS_TASK = "evaluator.make_board_exports"  # after a re-ranking (leaderboard/board_cache.py)
HOUSEKEEPING_TASK = "evaluator.housekeeping"  # run by the periodic scheduler (CELERY_BEAT_SCHEDULE)

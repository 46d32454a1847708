"""manage.py workers [--gpus all|none|0,1] [--cpu-concurrency N] [-- celery options]: the evaluator's workers."""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from evaluator.workers import detect_gpus, plan, run


class Command(BaseCommand):
    help = "Start one Celery worker per GPU (queue gpu) and one for the cpu queue, and supervise them as a set."

    def add_arguments(self, parser):
        parser.add_argument("--gpus", default="all", help="all (every GPU torch sees), none, or indices like 0,1")
        parser.add_argument("--cpu-concurrency", type=int, default=1, help="CPU worker processes; 0 for none")
        parser.add_argument("celery_options", nargs="*", help="passed to each `celery worker`, after --")

    def handle(self, **options):
        gpus = self._gpus(options["gpus"])
        if options["cpu_concurrency"] < 0:
            raise CommandError("--cpu-concurrency must be 0 or more")
        try:
            specs = plan(
                gpus,
                options["cpu_concurrency"],
                settings.ZOOBOARD_GPU_QUEUE,
                settings.ZOOBOARD_CPU_QUEUE,
                os.environ.get("CUDA_VISIBLE_DEVICES"),
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        if not specs:
            raise CommandError("no workers to start: no GPU was found or given, and --cpu-concurrency is 0")
        for spec in specs:
            pinned = f", CUDA_VISIBLE_DEVICES={spec.env['CUDA_VISIBLE_DEVICES']!r}" if spec.env else ""
            self.stdout.write(f"starting {spec.name}: queue {spec.queue}, {spec.concurrency} process(es){pinned}")
        self.stdout.flush()
        sys.exit(run(specs, options["celery_options"]))

    @staticmethod
    def _gpus(value: str) -> list[str]:
        if value == "all":
            return detect_gpus()
        if value == "none":
            return []
        indices = [index.strip() for index in value.split(",")]
        if not all(index.isdigit() for index in indices):
            raise CommandError(f"--gpus takes all, none or comma-separated GPU indices, not {value!r}")
        return indices

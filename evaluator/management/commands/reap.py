"""manage.py reap: one pass of the reaper by hand (the workers run it every ZOOBOARD_REAPER_INTERVAL seconds)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from evaluator.reaper import reap


class Command(BaseCommand):
    help = "Re-queue or fail evaluations whose worker died, and send submissions the broker has not had."

    def handle(self, **options):
        counts = reap()
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in counts.items()))

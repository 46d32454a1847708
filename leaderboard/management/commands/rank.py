"""manage.py rank: re-ranks every board from the stored results (after an upgrade from a version without stored
rankings; otherwise they are kept up to date as results change)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from leaderboard import ranking


class Command(BaseCommand):
    help = "Re-rank every board (label set version) from the stored results."

    def handle(self, *args, **options):
        started = time.perf_counter()
        boards = ranking.refresh_all()
        self.stdout.write(f"re-ranked {boards} boards in {time.perf_counter() - started:.1f} s")

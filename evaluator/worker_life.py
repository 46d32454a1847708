"""What a worker does beside its tasks: its main process runs the reaper, and each pool process dies with the
main one, so that a killed worker leaves no orphan evaluating on (its lease then runs out and the reaper
queues the submission again for a live worker)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import signal
import sys

from celery.signals import worker_process_init, worker_ready, worker_shutdown
from django.conf import settings

from evaluator.reaper import ReaperThread

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # linux/prctl.h
_reaper: list[ReaperThread] = []


@worker_ready.connect
def start_reaper(**kwargs) -> None:
    thread = ReaperThread(settings.ZOOBOARD_REAPER_INTERVAL)
    thread.start()
    _reaper.append(thread)


@worker_shutdown.connect
def stop_reaper(**kwargs) -> None:
    for thread in _reaper:
        thread.stop()


@worker_process_init.connect
def die_with_the_main_process(**kwargs) -> None:
    """prctl(PR_SET_PDEATHSIG, SIGKILL): the kernel kills this pool process when its parent dies. The standard
    library has no binding for prctl, hence ctypes; elsewhere than Linux the lease alone protects."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("could not ask to die with the worker's main process (errno %s)", ctypes.get_errno())

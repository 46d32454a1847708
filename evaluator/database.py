"""Database calls that outlive a dropped connection: a worker's writes are retried on a fresh connection while
PostgreSQL restarts or the network blips, so no evaluation is left running because one UPDATE failed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)
T = TypeVar("T")
CONNECTION_ERRORS = (OperationalError, InterfaceError)


def fresh_connection() -> None:
    """Drops this thread's connection (without talking to a server that may be gone); the next query opens one."""
    try:
        connection.close()
    except DatabaseError:
        connection.connection = None


def retrying(write: Callable[[], T], what: str, deadline_seconds: float = 180) -> T:
    """write(), again on a fresh connection after each connection error, until deadline_seconds have passed."""
    deadline, pause = time.monotonic() + deadline_seconds, 0.25
    while True:
        try:
            return write()
        except CONNECTION_ERRORS as error:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("database unreachable while %s (%s); retrying on a fresh connection", what, error)
            fresh_connection()
            time.sleep(pause)  # back-off between reconnections, not synchronisation
            pause = min(pause * 2, 5.0)

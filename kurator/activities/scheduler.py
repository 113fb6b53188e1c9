"""The periodic jobs without Redis: a daemon thread of the web server runs the reminders every
``KURATOR_JOB_INTERVAL_SECONDS`` (the ``make run`` default). With REDIS_URL set, Celery beat and a worker run
them instead (see README). The jobs are idempotent, so two web processes each running the thread, or the
thread and beat at once, send nothing twice."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Sequence

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

# Programs that serve Kurator's web pages; the jobs never start in migrations, shells, tests or workers.
_SERVERS = ("uvicorn", "gunicorn", "daphne", "hypercorn")

_thread: threading.Thread | None = None
_stop = threading.Event()
_lock = threading.Lock()


def should_start(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> bool:
    """Whether this process runs the jobs: the setting is on (default: on without REDIS_URL) and the process
    is a web server — ``manage.py runserver`` (the serving child when auto-reloading) or an ASGI server."""
    if not settings.KURATOR_INPROCESS_JOBS:
        return False
    argv = list(sys.argv if argv is None else argv)
    environ = dict(os.environ if environ is None else environ)
    if not argv:
        return False
    program = os.path.basename(argv[0])
    if any(server in program for server in _SERVERS):
        return True
    if program in {"manage.py", "django-admin", "django-admin.py", "__main__.py"} and argv[1:2] == [
        "runserver"
    ]:
        # The auto-reloader runs the server in a child process (RUN_MAIN=true); the parent only watches files.
        return "--noreload" in argv or environ.get("RUN_MAIN") == "true"
    return False


def tick() -> dict[str, int] | None:
    """One run of every job; an error is logged, never raised (the thread must live on)."""
    from kurator.activities.reminders import run_reminders

    try:
        return run_reminders()
    except Exception:
        logger.exception("in-process reminder jobs failed")
        return None
    finally:
        # The thread's own connections: never left open (or broken) between runs.
        connections.close_all()


def _loop(interval: float, first_delay: float) -> None:
    if _stop.wait(first_delay):
        return
    while True:
        tick()
        if _stop.wait(interval):
            return


def start(*, interval: float | None = None, first_delay: float = 15.0) -> threading.Thread:
    """Start the job thread once per process (later calls return the running thread)."""
    global _thread
    with _lock:
        if _thread is not None and _thread.is_alive():
            return _thread
        _stop.clear()
        seconds = float(settings.KURATOR_JOB_INTERVAL_SECONDS if interval is None else interval)
        _thread = threading.Thread(
            target=_loop, args=(max(seconds, 1.0), first_delay), name="kurator-jobs", daemon=True
        )
        _thread.start()
        logger.info(
            "in-process jobs: reminders every %s s (no Redis; Celery beat runs them in production)", seconds
        )
        return _thread


def stop(timeout: float = 5.0) -> None:
    """Stop the job thread (tests)."""
    global _thread
    _stop.set()
    with _lock:
        if _thread is not None:
            _thread.join(timeout)
            _thread = None


def start_if_serving() -> bool:
    """Called from ActivitiesConfig.ready(): start the thread when this process serves the web pages."""
    if should_start():
        start()
        return True
    return False

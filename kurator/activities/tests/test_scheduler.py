"""The in-process job runner without Redis (D10): when it starts, and what one tick does."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from kurator.accounts.models import User
from kurator.activities import reminders, scheduler
from kurator.activities.apps import ActivitiesConfig
from kurator.activities.models import Notification, Task


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["manage.py", "runserver", "--noreload", "127.0.0.1:8000"], {}, True),  # make run
        (["manage.py", "runserver"], {}, False),  # the auto-reloader's watcher
        (["manage.py", "runserver"], {"RUN_MAIN": "true"}, True),  # …and its serving child
        (["/srv/.venv/bin/uvicorn", "kurator.asgi:application"], {}, True),
        (["gunicorn", "kurator.wsgi"], {}, True),
        (["manage.py", "migrate"], {}, False),
        (["manage.py", "shell"], {}, False),
        (["manage.py", "demo_data", "--if-empty"], {}, False),
        (["/srv/.venv/bin/celery", "-A", "kurator", "worker"], {}, False),
        (["/work/main/.venv/bin/pytest", "-q"], {}, False),
        ([], {}, False),
    ],
)
def test_jobs_start_only_in_a_web_server(settings, argv, environ, expected) -> None:
    """D10: without Redis the web server runs the jobs; migrations, shells, workers and tests never do."""
    settings.KURATOR_INPROCESS_JOBS = True
    assert scheduler.should_start(argv, environ) is expected


def test_jobs_do_not_start_when_switched_off(settings) -> None:
    """D10: KURATOR_INPROCESS_JOBS=0 (the default with REDIS_URL, where beat runs them) keeps it off."""
    settings.KURATOR_INPROCESS_JOBS = False
    assert scheduler.should_start(["manage.py", "runserver", "--noreload"], {}) is False


def test_the_test_run_itself_starts_no_thread() -> None:
    """D10: the app registry is ready in this test process, and no job thread runs in it."""
    assert not any(t.name == "kurator-jobs" for t in threading.enumerate())


def test_app_ready_starts_the_thread_when_serving(monkeypatch) -> None:
    """D10: ActivitiesConfig.ready() asks the scheduler, which starts the thread in a serving process."""
    started: list[bool] = []
    monkeypatch.setattr(scheduler, "should_start", lambda: True)
    monkeypatch.setattr(scheduler, "start", lambda: started.append(True))
    import kurator.activities

    ActivitiesConfig("kurator.activities", kurator.activities).ready()
    assert started == [True]


def test_the_thread_ticks_every_interval_and_stops(monkeypatch) -> None:
    """D10: the daemon thread calls the jobs again and again; start() twice keeps one thread."""
    ticks = threading.Semaphore(0)
    monkeypatch.setattr(scheduler, "tick", lambda: ticks.release())
    thread = scheduler.start(interval=0.01, first_delay=0)
    try:
        assert thread.daemon and thread.name == "kurator-jobs"
        assert scheduler.start(interval=0.01, first_delay=0) is thread
        for _ in range(3):
            assert ticks.acquire(timeout=5)
    finally:
        scheduler.stop()
    assert not thread.is_alive()


@pytest.mark.django_db(transaction=True)
def test_one_tick_sends_the_reminders_once_and_survives_errors(monkeypatch, manager: User) -> None:
    """D10: a tick runs every reminder job (twice sends nothing twice) and logs a failure instead of dying."""
    manager.email = "manager@example.com"
    manager.save()
    # A minute late: "today" at any hour, even at 23:50 in Moscow.
    Task.objects.create(title="Позвонить", assignee=manager, due_at=timezone.now() - timedelta(minutes=1))
    result = scheduler.tick()
    assert result is not None and result["tasks_due"] == 1
    assert scheduler.tick() == dict.fromkeys(reminders.JOBS, 0)
    assert Notification.objects.filter(recipient=manager, kind="task_due").count() == 1
    assert len(mail.outbox) == 1

    def broken(**kwargs: Any) -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr("kurator.activities.reminders.JOBS", {"broken": broken})
    assert scheduler.tick() is None  # logged, not raised

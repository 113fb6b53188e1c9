"""The reminder jobs as Celery tasks (D10): eagerly without Redis, and on a real worker with Redis.

The worker test needs Redis at REDIS_TEST_URL (default redis://127.0.0.1:6379/14). When it does not answer
the test is skipped — except in CI (REQUIRE_POSTGRES=1, or REQUIRE_REDIS=1), where that is a failure."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from kurator.accounts.models import User
from kurator.activities import reminders
from kurator.activities.models import Notification, Task
from kurator.activities.tasks import send_reminders
from kurator.celery import app

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/14")
# Every job reports a count, the finance jobs too.
ZERO = dict.fromkeys(reminders.JOBS, 0)


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _due_task(user: User) -> Task:
    user.email = f"{user.username}@example.com"
    user.save()
    # A minute late: "today" at any hour, even at 23:50 in Moscow.
    return Task.objects.create(title="Позвонить", assignee=user, due_at=timezone.now() - timedelta(minutes=1))


def test_beat_schedules_the_reminders() -> None:
    """D10: Celery beat sends the reminder task every KURATOR_JOB_INTERVAL_SECONDS."""
    entry = settings.CELERY_BEAT_SCHEDULE["send-reminders"]
    assert entry["task"] == send_reminders.name == "kurator.activities.tasks.send_reminders"
    assert entry["schedule"] == float(settings.KURATOR_JOB_INTERVAL_SECONDS)


@pytest.mark.django_db
def test_without_redis_the_task_runs_eagerly_and_twice_sends_nothing_twice(
    manager, django_capture_on_commit_callbacks
) -> None:
    """D10: the embedded default (no REDIS_URL) runs the task in-process; a second run sends nothing."""
    assert app.conf.task_always_eager
    _due_task(manager)
    with django_capture_on_commit_callbacks(execute=True):
        first = send_reminders.delay().get()
    with django_capture_on_commit_callbacks(execute=True):
        second = send_reminders.delay().get()
    assert first == {**ZERO, "tasks_due": 1} and second == ZERO
    assert Notification.objects.filter(recipient=manager).count() == 1
    assert len(mail.outbox) == 1


@pytest.fixture
def celery_worker_on_redis() -> Iterator[None]:
    """A real Celery worker (a thread of this process) consuming a queue of its own on Redis."""
    if not _redis_answers(REDIS_TEST_URL):
        message = f"Redis does not answer at {REDIS_TEST_URL}"
        if os.environ.get("REQUIRE_POSTGRES") == "1" or os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(message + " (required in CI)")
        pytest.skip(message)
    from celery.contrib.testing.worker import start_worker

    keys = ("broker_url", "result_backend", "task_always_eager", "task_default_queue")
    saved = {key: app.conf[key] for key in keys}
    # A queue per test run: two test runs sharing the Redis never take each other's tasks.
    app.conf.update(
        broker_url=REDIS_TEST_URL,
        result_backend=REDIS_TEST_URL,
        task_always_eager=False,
        task_default_queue=f"kurator-test-{uuid.uuid4().hex}",
    )
    _forget_connections()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            yield
    finally:
        app.conf.update(saved)
        _forget_connections()


def _forget_connections() -> None:
    """The app caches its result back-end (per thread) and its broker pools: drop them after a reconfigure."""
    app._local.__dict__.pop("backend", None)
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_sends_the_reminders_once(manager, celery_worker_on_redis) -> None:
    """D10: in production beat queues the task on Redis and a worker runs it; running it twice sends nothing
    twice — notifications and e-mails alike."""
    _due_task(manager)
    first = send_reminders.delay().get(timeout=60)
    second = send_reminders.delay().get(timeout=60)
    assert first == {**ZERO, "tasks_due": 1} and second == ZERO
    assert Notification.objects.filter(recipient=manager, kind="task_due").count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["manager@example.com"]

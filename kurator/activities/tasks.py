"""Celery tasks of the activities app: the periodic reminder jobs (beat runs them; see CELERY_BEAT_SCHEDULE).

Without REDIS_URL the tasks run eagerly and kurator.activities.scheduler calls the same jobs in-process."""

from __future__ import annotations

from celery import shared_task

from kurator.activities.reminders import run_reminders


@shared_task(name="kurator.activities.tasks.send_reminders", ignore_result=False)
def send_reminders() -> dict[str, int]:
    """Every reminder job (D10, R1, R2); idempotent, so a retry or a second beat sends nothing twice."""
    return run_reminders()

"""Notifications to users. Scheduled after commit, so a rolled-back action notifies nobody."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kurator.accounts.models import User
from kurator.activities.models import Notification


def notify(*, recipient: User, kind: str, text: Any, url: str = "", dedup_key: str = "") -> None:
    """Queue an in-app notification; with ``dedup_key`` the same notice is never stored twice."""

    def deliver() -> None:
        try:
            with transaction.atomic():
                Notification.objects.create(
                    recipient=recipient, kind=kind, text=str(text), url=url, dedup_key=dedup_key
                )
        except IntegrityError:
            if not dedup_key:
                raise

    transaction.on_commit(deliver)


def notification_mark_read(*, actor: User, notification_ids: list[int] | None = None) -> int:
    """Mark the actor's notifications read (all unread ones when no ids are given)."""
    qs = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())

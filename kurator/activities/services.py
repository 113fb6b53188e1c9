"""Notifications to users. Scheduled after commit, so a rolled-back action notifies nobody."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from kurator.accounts.models import User
from kurator.activities.models import Notification

logger = logging.getLogger(__name__)


def notify(
    *, recipient: User, kind: str, text: Any, url: str = "", dedup_key: str = "", email: bool = False
) -> None:
    """Queue an in-app notification; with ``dedup_key`` the same notice is never stored twice.

    ``email=True`` also sends it to the recipient's e-mail address (when set), once: only when the row is
    newly stored, and only after the commit."""
    transaction.on_commit(
        lambda: deliver_notification(
            recipient=recipient, kind=kind, text=text, url=url, dedup_key=dedup_key, email=email
        )
    )


def deliver_notification(
    *, recipient: User, kind: str, text: Any, url: str = "", dedup_key: str = "", email: bool = False
) -> Notification | None:
    """Store the notification now (the reminder jobs call this outside any transaction); ``None`` when one
    with the same ``dedup_key`` is already there. The e-mail, if asked for, goes after the commit."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind, text=str(text), url=url, dedup_key=dedup_key
            )
    except IntegrityError:
        if not dedup_key:
            raise
        return None
    if email and recipient.email:
        transaction.on_commit(lambda: send_notification_email(notification))
    return notification


def absolute_url(path: str) -> str:
    """A link for outside the browser session (e-mails, calendar entries): KURATOR_BASE_URL + path."""
    if not path or "://" in path:
        return path
    return settings.KURATOR_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


def recipient_language(user: User) -> str:
    """The language to write to the user in: theirs if the user model ever gets one, else the default."""
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def send_notification_email(notification: Notification) -> bool:
    """E-mail one notification to its recipient; a mail server failure is logged, never raised."""
    recipient = notification.recipient
    if not recipient.email:
        return False
    with translation.override(recipient_language(recipient)):
        first_line = notification.text.splitlines()[0] if notification.text else ""
        if len(first_line) > 120:
            first_line = first_line[:119] + "…"
        subject = gettext("Kurator: %(text)s") % {"text": first_line}
        body = notification.text
        if notification.url:
            body += "\n\n" + gettext("Open: %(url)s") % {"url": absolute_url(notification.url)}
        body += "\n\n" + gettext("— Kurator. You receive this because you work with these clients.")
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient.email], fail_silently=False)
    except Exception:  # an SMTP outage must not stop the jobs; the in-app notice is there
        logger.exception("could not e-mail notification %s to user %s", notification.pk, recipient.pk)
        return False
    return True


def notification_mark_read(*, actor: User, notification_ids: list[int] | None = None) -> int:
    """Mark the actor's notifications read (all unread ones when no ids are given)."""
    qs = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())

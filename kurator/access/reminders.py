"""Reminder job of restricted access (R4), registered in ``kurator.activities.reminders.JOBS``.

``remind_expiring_grants`` tells each holder, the day before the last day of a grant, that their access ends
— once (the notice has a dedup key), in their language, by e-mail too. A grant stops working the day after
its ``expires_on`` by itself (:func:`kurator.access.confidential.live_grants`); nothing is changed here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import formats, timezone, translation
from django.utils.translation import gettext

KIND_ACCESS_EXPIRING = "access_expiring"


def remind_expiring_grants(*, now: datetime | None = None) -> int:
    """R4: the grants whose last day is tomorrow, not revoked: a notice to the holder. Returns how many."""
    from kurator.access.models import AccessGrant
    from kurator.access.services import target_label, target_url
    from kurator.activities.services import deliver_notification, recipient_language

    now = now or timezone.now()
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    grants = (
        AccessGrant.objects.filter(revoked_at__isnull=True, expires_on=tomorrow, user__is_active=True)
        .select_related("user", "company", "document")
        .order_by("pk")
    )
    created = 0
    for grant in grants:
        with translation.override(recipient_language(grant.user)):
            text = gettext(
                "Your access to %(what)s ends tomorrow, %(date)s. Ask the head of sales again if you still "
                "need it."
            ) % {
                "what": target_label(grant.company, grant.document),
                "date": formats.date_format(grant.expires_on, "SHORT_DATE_FORMAT"),
            }
        notification = deliver_notification(
            recipient=grant.user,
            kind=KIND_ACCESS_EXPIRING,
            text=text,
            url=target_url(grant.company, grant.document),
            dedup_key=f"access-expiring:{grant.pk}",
            email=True,
        )
        created += notification is not None
    return created

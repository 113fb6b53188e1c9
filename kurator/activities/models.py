from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kurator.core.models import TimeStamped


class Notification(models.Model):
    """An in-app message to one user (an inquiry given to a curator, a curator change, …)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=64)
    text = models.TextField(_("text"))
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Guards against sending the same notice twice when a job or a request is retried.
    dedup_key = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox_idx")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedup_key"],
                condition=~models.Q(dedup_key=""),
                name="notification_dedup",
            )
        ]

    def __str__(self) -> str:
        return self.text[:80]


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    NEGOTIATION = "negotiation", _("Negotiation")
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    NOTE = "note", _("Note")


class Activity(TimeStamped):
    """One contact with the client (D3): the timeline of the dossier and of the deal is made of these.

    Every member of the department reads every timeline (R3); only the author and the head of sales edit an
    entry, and each edit is kept in the history."""

    company = models.ForeignKey(
        "companies.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="activities"
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    contacts = models.ManyToManyField(
        "companies.Contact", verbose_name=_("the client's people"), blank=True, related_name="activities"
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("our participants"), blank=True, related_name="activities"
    )
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    result = models.TextField(_("result"), blank=True)
    next_step = models.CharField(_("next step"), max_length=500, blank=True)
    next_step_on = models.DateField(_("next step date"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="authored_activities",
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(m2m_fields=[contacts, users], excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("contact history")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[c.value for c in ActivityKind]), name="activity_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(next_step_on__isnull=True) | ~Q(next_step=""), name="activity_next_step_named"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "-occurred_at", "-id"], name="activity_company_timeline_idx"),
            models.Index(fields=["deal", "-occurred_at", "-id"], name="activity_deal_timeline_idx"),
            models.Index(fields=["company", "kind", "-occurred_at"], name="activity_company_kind_idx"),
            # The API's unfiltered list, newest first.
            models.Index(fields=["-occurred_at", "-id"], name="activity_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class Task(TimeStamped):
    """Something a user has to do by a time, linked to a client or a deal; a next step of an activity
    becomes one."""

    title = models.CharField(_("title"), max_length=300)
    notes = models.TextField(_("notes"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.PROTECT, related_name="tasks"
    )
    due_at = models.DateTimeField(_("due"))
    company = models.ForeignKey(
        "companies.Company",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    # The activity whose next step this task is (edited together with it).
    activity = models.OneToOneField(
        Activity,
        verbose_name=_("from the activity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="next_task",
    )
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["done", "due_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done=False, done_at__isnull=True) | Q(done=True, done_at__isnull=False),
                name="task_done_stamped",
            )
        ]
        indexes = [
            models.Index(fields=["assignee", "done", "due_at"], name="task_my_day_idx"),
            models.Index(fields=["company", "done", "due_at"], name="task_company_idx"),
            models.Index(fields=["deal", "done", "due_at"], name="task_deal_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class CalendarFeed(models.Model):
    """A user's private iCal feed (tasks and birthdays): the secret token is the URL; revoking replaces it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="calendar_feed",
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"calendar feed of {self.user_id}"

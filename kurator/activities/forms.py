"""Forms of the contact history and task pages. They only parse input: the rules live in
kurator.activities.services, whose ValidationError is attached back to these fields, each named like the
service argument it feeds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kurator.access.scoping import curator_candidates
from kurator.accounts.models import User
from kurator.activities.models import Activity, ActivityKind, Task
from kurator.companies.models import Company, Contact
from kurator.core.widgets import UserChoiceField, date_widget
from kurator.sales.models import Deal

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _datetime_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


class PersonChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        if isinstance(obj, User):
            return obj.full_name
        position = getattr(obj, "position", "")
        return f"{obj.full_name} — {position}" if position else str(obj.full_name)


class DealChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Deal) -> str:
        return obj.title or f"#{obj.pk}"


class ActivityForm(forms.Form):
    """A contact with the client (D3): when, kind, who on both sides, result and the next step."""

    kind = forms.ChoiceField(label=_("Kind"), choices=ActivityKind.choices, initial=ActivityKind.CALL)
    occurred_at = forms.DateTimeField(label=_("When"), widget=_datetime_widget())
    deal = DealChoiceField(label=_("Deal"), queryset=Deal.objects.none(), required=False, empty_label="—")
    contacts = PersonChoiceField(
        label=_("The client's people"),
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    users = PersonChoiceField(
        label=_("Our participants"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    result = forms.CharField(
        label=_("Result"), required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=10_000
    )
    next_step = forms.CharField(label=_("Next step"), max_length=500, required=False)
    next_step_on = forms.DateField(
        label=_("Next step date"),
        required=False,
        widget=date_widget(),
        help_text=_("With a date, the next step becomes your task for that day."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        company: Company,
        actor: User,
        activity: Activity | None = None,
        deal: Deal | None = None,
        **kwargs: Any,
    ) -> None:
        if "initial" not in kwargs:
            if activity is not None:
                kwargs["initial"] = {
                    "kind": activity.kind,
                    "occurred_at": timezone.localtime(activity.occurred_at),
                    "deal": activity.deal_id,
                    "contacts": [c.pk for c in activity.contacts.all()],
                    "users": [u.pk for u in activity.users.all()],
                    "subject": activity.subject,
                    "result": activity.result,
                    "next_step": activity.next_step,
                    "next_step_on": activity.next_step_on,
                    "version": activity.version,
                }
            else:
                # The author took part: pre-selected among our participants.
                kwargs["initial"] = {
                    "occurred_at": timezone.localtime().replace(second=0, microsecond=0),
                    "deal": deal.pk if deal is not None else None,
                    "users": [actor.pk],
                }
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["contacts"].queryset = Contact.objects.filter(company=company).order_by(
            "-is_active", "full_name"
        )
        chosen_users = [u.pk for u in activity.users.all()] if activity is not None else []
        # Active users, and whoever took part already even if they have left since.
        fields["users"].queryset = User.objects.filter(Q(is_active=True) | Q(pk__in=chosen_users)).order_by(
            "last_name", "first_name", "id"
        )
        fields["deal"].queryset = Deal.objects.filter(company=company).order_by("-created_at", "-id")

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["contacts"] = list(data.get("contacts") or [])
        data["users"] = list(data.get("users") or [])
        return data


class TaskForm(forms.Form):
    """A task: what, who, by when, linked to a client and a deal."""

    title = forms.CharField(label=_("Task"), max_length=300)
    assignee = UserChoiceField(label=_("Assignee"), queryset=User.objects.none(), empty_label=None)
    due_at = forms.DateTimeField(label=_("Due"), widget=_datetime_widget())
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, actor: User, task: Task | None = None, **kwargs: Any) -> None:
        if "initial" not in kwargs:
            if task is not None:
                kwargs["initial"] = {
                    "title": task.title,
                    "assignee": task.assignee_id,
                    "due_at": timezone.localtime(task.due_at),
                    "notes": task.notes,
                }
            else:
                start = timezone.localtime().replace(minute=0, second=0, microsecond=0)
                kwargs["initial"] = {"assignee": actor.pk, "due_at": start + timedelta(hours=1)}
        super().__init__(*args, **kwargs)
        candidates = curator_candidates()
        field: Any = self.fields["assignee"]
        if task is not None:
            candidates = User.objects.filter(
                Q(pk__in=candidates.values("pk")) | Q(pk=task.assignee_id)
            ).order_by("last_name", "first_name", "id")
        field.queryset = candidates
        field.label_from_instance = lambda user: user.full_name

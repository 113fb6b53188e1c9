"""Forms of the restricted-access pages (R4, D12). They parse input; every rule lives in
kurator.access.services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kurator.access.models import AuditAction
from kurator.access.selectors import GRANT_STATES
from kurator.accounts.models import User
from kurator.core.widgets import UserChoiceField, date_widget

# Keys are 64-bit: a larger number is a wrong filter, not a database error.
MAX_ID = 2**63 - 1

# The expiry the head of sales is offered when approving: a week (the journey).
DEFAULT_GRANT_DAYS = 7


def default_expiry() -> Any:
    return timezone.localdate() + timedelta(days=DEFAULT_GRANT_DAYS)


class AccessRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need access?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The head of sales reads it and decides."),
    )


class ApproveForm(forms.Form):
    expires_on = forms.DateField(label=_("Access until (inclusive)"), required=False, widget=date_widget())
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)


class RefuseForm(forms.Form):
    comment = forms.CharField(label=_("Why is access refused?"), required=False, max_length=2000)


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Why is access revoked?"), required=False, max_length=500)


class GrantForm(forms.Form):
    """A direct grant by the head of sales, for one client (its section or one of its documents)."""

    user = UserChoiceField(
        label=_("Who"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Choose a colleague"),
    )
    document = forms.ChoiceField(label=_("What"), required=False)
    expires_on = forms.DateField(label=_("Access until (inclusive)"), required=False, widget=date_widget())
    reason = forms.CharField(
        label=_("Why"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, users: Any, documents: list[Any], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"expires_on": default_expiry()})
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users  # type: ignore[attr-defined]
        self.fields["user"].label_from_instance = lambda u: f"{u.full_name} · {u.get_role_display()}"  # type: ignore[attr-defined]
        self.fields["document"].choices = [  # type: ignore[attr-defined]
            ("", _("The whole confidential section")),
            *[(str(d.pk), d.name) for d in documents],
        ]


class GrantFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("All")),
            *zip(
                GRANT_STATES,
                [
                    pgettext_lazy("access grant", "Live"),
                    pgettext_lazy("access grant", "Expired"),
                    pgettext_lazy("access grant", "Revoked"),
                ],
                strict=True,
            ),
        ],
    )
    user = forms.IntegerField(
        label=_("Who"), widget=forms.HiddenInput, required=False, min_value=1, max_value=MAX_ID
    )
    company = forms.IntegerField(
        label=_("Client"), widget=forms.HiddenInput, required=False, min_value=1, max_value=MAX_ID
    )
    grant = forms.IntegerField(
        label=_("Access grant"), widget=forms.HiddenInput, required=False, min_value=1, max_value=MAX_ID
    )


class AuditFilterForm(forms.Form):
    user = UserChoiceField(
        label=_("User"), queryset=User.objects.none(), required=False, empty_label=_("Anyone")
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any")), *AuditAction.choices]
    )
    allowed = forms.TypedChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Allowed")), ("no", _("Refused"))],
        coerce=lambda v: {"yes": True, "no": False}.get(v),
        empty_value=None,
    )
    object_type = forms.ChoiceField(label=_("Object"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=date_widget())
    date_to = forms.DateField(label=_("To"), required=False, widget=date_widget())
    ip = forms.GenericIPAddressField(label=_("IP address"), required=False)
    company = forms.IntegerField(
        label=_("Client"), widget=forms.HiddenInput, required=False, min_value=1, max_value=MAX_ID
    )

    def __init__(self, *args: Any, object_types: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.order_by("last_name", "first_name", "username")  # type: ignore[attr-defined]
        self.fields["user"].label_from_instance = lambda u: u.full_name  # type: ignore[attr-defined]
        self.fields["object_type"].choices = [("", _("Any")), *object_types]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data

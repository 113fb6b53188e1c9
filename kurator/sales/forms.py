"""Forms of the sales pages (S3, R1). They only parse input; the services decide and their errors are shown
next to the fields (``kurator.core.forms.apply_service_errors``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kurator.accounts.models import User
from kurator.activities.models import ActivityKind
from kurator.companies.forms import ReportPeriodForm
from kurator.companies.models import Company, ContactSource, SalesTechnology
from kurator.companies.reports import Period
from kurator.core.widgets import UserChoiceField, date_widget
from kurator.sales.models import Deal, DealField, LostReason, Pipeline, Stage, StageKind
from kurator.sales.reports import current_month

# Deals ----------------------------------------------------------------------------------------------------


class DealForm(forms.Form):
    """A new deal or an edit of one. The version it was loaded at travels with it: a colleague's change in
    between is an edit conflict, not a silent overwrite."""

    title = forms.CharField(label=_("Title"), max_length=300, required=False)
    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.none(), required=False)
    amount = forms.DecimalField(label=_("Amount, ₽"), max_digits=16, decimal_places=2, required=False)
    expected_close = forms.DateField(label=_("Expected close date"), required=False, widget=date_widget())
    probability = forms.IntegerField(label=_("Probability, %"), min_value=0, max_value=100, required=False)
    contacts = forms.ModelMultipleChoiceField(
        label=_("People involved"),
        queryset=Company.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    co_owner = UserChoiceField(label=_("Co-owner"), queryset=User.objects.none(), required=False)
    source = forms.ModelChoiceField(label=_("Source"), queryset=ContactSource.objects.none(), required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        data: Any = None,
        *,
        company: Company,
        deal: Deal | None = None,
        with_co_owner: bool = False,
        co_owners: Any = None,
    ) -> None:
        initial: dict[str, Any] = {}
        if deal is not None:
            initial = {
                "title": deal.title,
                "amount": deal.amount,
                "expected_close": deal.expected_close,
                "probability": deal.probability,
                "contacts": [c.pk for c in deal.contacts.all()],
                "co_owner": deal.co_owner_id,
                "source": deal.source_id,
                "description": deal.description,
                "version": deal.version,
            }
        super().__init__(data, initial=initial)
        self.deal = deal
        self.fields["contacts"].queryset = company.contacts.order_by("full_name")  # type: ignore[attr-defined]
        self.fields["contacts"].label_from_instance = lambda c: str(c)  # type: ignore[attr-defined]
        sources = ContactSource.objects.filter(is_active=True)
        if deal is not None and deal.source_id:
            sources = ContactSource.objects.filter(Q(is_active=True) | Q(pk=deal.source_id))
        self.fields["source"].queryset = sources.order_by("position", "name")  # type: ignore[attr-defined]
        if deal is None:
            self.fields["pipeline"].queryset = Pipeline.objects.filter(is_active=True).order_by(  # type: ignore[attr-defined]
                "position", "id"
            )
            self.fields["pipeline"].help_text = _("The default pipeline when none is chosen.")
            del self.fields["version"]
        else:
            del self.fields["pipeline"]
        if with_co_owner and co_owners is not None:
            self.fields["co_owner"].queryset = co_owners  # type: ignore[attr-defined]
        else:
            del self.fields["co_owner"]
        self.fields["title"].help_text = _("Empty: named after the company.")

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if data.get("probability") is None:
            data.pop("probability", None)
        if "pipeline" in data and data["pipeline"] is None:
            data.pop("pipeline")
        data["contacts"] = list(data.get("contacts") or [])
        return data


class MoveForm(forms.Form):
    """Move a deal to a stage (R1): the version it was shown at, and for the head of sales a reason to
    override an unmet standard; a move to a lost stage takes a reason for losing."""

    stage = forms.ModelChoiceField(label=_("Move to"), queryset=Stage.objects.none())
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    override_reason = forms.CharField(
        label=_("Reason to override the standard"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded in the stage history with what was missing."),
    )
    lost_reason = forms.ModelChoiceField(
        label=_("Reason for losing"), queryset=LostReason.objects.none(), required=False
    )
    lost_note = forms.CharField(
        label=_("Comment on the loss"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    # Where to come back to after the move ("board" or "detail").
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data: Any = None, *, deal: Deal, stages: list[Stage], initial: Any = None) -> None:
        super().__init__(data, initial={"version": deal.version, **(initial or {})})
        self.fields["stage"].queryset = Stage.objects.filter(pk__in=[s.pk for s in stages]).order_by(  # type: ignore[attr-defined]
            "order", "id"
        )
        self.fields["lost_reason"].queryset = LostReason.objects.filter(is_active=True).order_by(  # type: ignore[attr-defined]
            "position", "name"
        )


class ChecklistMarkForm(forms.Form):
    item = forms.IntegerField()
    done = forms.BooleanField(required=False)


STATUS_CHOICES = [("open", _("Open")), ("won", _("Won")), ("lost", _("Lost")), ("all", _("Any status"))]
# The list shows open deals unless asked otherwise (counting 300,000 closed ones costs more than the page);
# a chosen stage already says which deals, so then any status.
DEFAULT_STATUS = "open"

# The list's sorts: a key of kurator.sales.selectors.SORTS and its label.
SORTS = {
    "created": _("Newest first"),
    "-created": _("Oldest first"),
    "amount": _("Amount, largest first"),
    "-amount": _("Amount, smallest first"),
    "expected_close": _("Expected close, soonest first"),
    "-expected_close": _("Expected close, latest first"),
    "stage_entered": _("Moved most recently"),
    "-stage_entered": _("Longest in the stage"),
    "title": _("Title, A–Z"),
    "-title": _("Title, Z–A"),
}


class DealFilterForm(forms.Form):
    """The deal list's filters (GET). Unknown values are shown as errors, never silently ignored."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.none(), required=False)
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.none(), required=False)
    owner = UserChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    expected_close_from = forms.DateField(label=_("Closes from"), required=False, widget=date_widget())
    expected_close_to = forms.DateField(label=_("Closes by"), required=False, widget=date_widget())
    sort = forms.ChoiceField(label=_("Sort"), choices=list(SORTS.items()), required=False)

    def __init__(self, data: Any = None, *, pipelines: list[Pipeline], owners: Any) -> None:
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if not data.get("status"):
            data["status"] = "all" if data.get("stage") else DEFAULT_STATUS
        super().__init__(data)
        self.fields["pipeline"].queryset = Pipeline.objects.filter(pk__in=[p.pk for p in pipelines])  # type: ignore[attr-defined]
        self.fields["stage"].queryset = Stage.objects.filter(pipeline__in=[p.pk for p in pipelines])  # type: ignore[attr-defined]
        names = {p.pk: p.name for p in pipelines}
        if len(pipelines) > 1:
            self.fields["stage"].label_from_instance = lambda s: f"{names.get(s.pipeline_id, '')} · {s.name}"  # type: ignore[attr-defined]
        self.fields["stage"].queryset = self.fields["stage"].queryset.order_by("pipeline__position", "order")  # type: ignore[attr-defined]
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]

    def values(self) -> dict[str, Any]:
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", "all")}


# Pipeline settings (R1) -----------------------------------------------------------------------------------


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    sales_technology = forms.ModelChoiceField(
        label=_("Sales technology"), queryset=SalesTechnology.objects.none(), required=False
    )
    is_default = forms.BooleanField(
        label=_("Default pipeline"),
        required=False,
        help_text=_("New deals go here unless another is chosen."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    position = forms.IntegerField(label=_("Position"), min_value=0, required=False, initial=0)

    def __init__(self, data: Any = None, *, pipeline: Pipeline | None = None) -> None:
        initial: dict[str, Any] = {"is_active": True, "position": 0}
        if pipeline is not None:
            initial = {
                "name": pipeline.name,
                "sales_technology": pipeline.sales_technology_id,
                "is_default": pipeline.is_default,
                "is_active": pipeline.is_active,
                "position": pipeline.position,
            }
        super().__init__(data, initial=initial)
        self.fields["sales_technology"].queryset = SalesTechnology.objects.order_by("position", "name")  # type: ignore[attr-defined]

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("position") is None:
            data["position"] = 0
        return data


class StageForm(forms.Form):
    """A stage and its entry standard (R1)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.SlugField(
        label=_("Code"), max_length=64, help_text=_("Latin letters, digits, '-' and '_'; used by the API.")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=StageKind.choices)
    probability = forms.IntegerField(label=_("Probability, %"), min_value=0, max_value=100, initial=0)
    max_days = forms.IntegerField(
        label=_("Longest stay, days"),
        min_value=1,
        required=False,
        help_text=_("The owner is reminded when a deal stays longer; empty: no limit."),
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Required deal fields"),
        choices=DealField.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    required_activity_kinds = forms.MultipleChoiceField(
        label=_("Required activity (any of these kinds)"),
        choices=ActivityKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    activity_with_decision_maker = forms.BooleanField(
        label=_("The activity must involve a decision maker"), required=False
    )
    requires_signed_contract = forms.BooleanField(
        label=_("A signed contract is required"),
        required=False,
        help_text=_("Applies once contracts exist in Kurator."),
    )
    is_active = forms.BooleanField(label=pgettext_lazy("stage", "Active"), required=False, initial=True)

    def __init__(self, data: Any = None, *, stage: Stage | None = None) -> None:
        initial: dict[str, Any] = {"is_active": True, "probability": 0, "kind": StageKind.OPEN}
        if stage is not None:
            initial = {
                name: getattr(stage, name)
                for name in (
                    "name",
                    "code",
                    "kind",
                    "probability",
                    "max_days",
                    "required_fields",
                    "required_activity_kinds",
                    "activity_with_decision_maker",
                    "requires_signed_contract",
                    "is_active",
                )
            }
        super().__init__(data, initial=initial)

    def service_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ChecklistItemForm(forms.Form):
    text = forms.CharField(label=_("Checklist item"), max_length=300)


# The funnel -----------------------------------------------------------------------------------------------


class FunnelForm(ReportPeriodForm):
    """The funnel's period (the current month by default) and pipeline (the default one)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pipeline"] = forms.ModelChoiceField(
            label=_("Pipeline"),
            queryset=Pipeline.objects.order_by("position", "id"),
            required=False,
            empty_label=None,
        )

    def period(self) -> Period:
        cleaned = self.cleaned_data if self.is_valid() else {}
        default = current_month()
        end: date = cleaned.get("to") or default.date_to
        start: date = cleaned.get("from") or (end.replace(day=1) if cleaned.get("to") else default.date_from)
        return Period(min(start, end), end)

    def pipeline(self) -> Pipeline | None:
        return (self.cleaned_data.get("pipeline") if self.is_valid() else None) or None

"""Forms of the inquiry pages. They parse input only: the rules live in kurator.inquiries.services (and
settings_services), whose ValidationError is attached back to these fields by apply_service_errors, so each
field is named like the service argument it feeds."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kurator.access.scoping import curator_candidates, visible_companies
from kurator.accounts.models import User
from kurator.companies.models import ApplicationSphere, Company, ContactSource, SalesTechnology
from kurator.companies.selectors import company_list
from kurator.core.requisites import clean_number
from kurator.inquiries.models import (
    Channel,
    DistributionRule,
    InquiryStatus,
    RuleKind,
)


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def grouped_source_choices(sources: list[ContactSource], current: Any = None) -> list[Any]:
    """Sources as <optgroup>s: a top-level source is a group holding itself and its sub-sources (S2).

    Inactive entries are left out unless already chosen (an edit keeps a deactivated value)."""
    current_id = getattr(current, "pk", current)
    shown = [s for s in sources if s.is_active or s.pk == current_id]
    children: dict[int, list[ContactSource]] = {}
    for source in shown:
        if source.parent_id is not None:
            children.setdefault(source.parent_id, []).append(source)
    choices: list[Any] = [("", "—")]
    for top in (s for s in shown if s.parent_id is None):
        subs = children.get(top.pk, [])
        if subs:
            general = _("%(name)s (general)") % {"name": top.name}
            choices.append((top.name, [(top.pk, general), *((s.pk, s.name) for s in subs)]))
        else:
            choices.append((top.pk, top.name))
    return choices


def source_list() -> list[ContactSource]:
    """Every source, parents before their sub-sources, in the dictionary's order (one query)."""
    sources = list(ContactSource.objects.select_related("parent").order_by("position", "name"))
    order = {s.pk: (s.position, s.name) for s in sources if s.parent_id is None}
    return sorted(
        sources,
        key=lambda s: (
            order.get(s.parent_id or s.pk, (0, "")),
            s.parent_id or s.pk,
            s.parent_id is not None,
            s.position,
            s.name,
        ),
    )


class SourceField(forms.TypedChoiceField):
    """A contact source chosen from grouped options; cleans to the ContactSource (or None)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("empty_value", None)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.sources: dict[int, ContactSource] = {}

    def set_sources(self, sources: list[ContactSource], current: Any = None) -> None:
        self.sources = {s.pk: s for s in sources}
        self.choices = grouped_source_choices(sources, current)

    def clean(self, value: Any) -> ContactSource | None:
        pk = super().clean(value)
        return self.sources.get(pk) if pk is not None else None


def referrer_by_inn(actor: User, value: str | None) -> Company | None:
    """The recommending client named by its INN, as the dossier form finds it (branches: the head office)."""
    inn = clean_number(value)
    if not inn:
        return None
    referrer = visible_companies(actor).filter(inn=inn, merged_into__isnull=True).order_by("id").first()
    if referrer is None:
        raise forms.ValidationError(
            _("No client with INN %(inn)s is in the base."), code="referrer_not_found", params={"inn": inn}
        )
    return referrer


class InquiryForm(forms.Form):
    """An inquiry typed in by a manager: a phone call or an e-mail (R2, S2)."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    source = SourceField(label=_("Contact source"))
    referred_by = forms.CharField(
        label=_("Recommended by (client's INN)"),
        max_length=32,
        required=False,
        help_text=_("For a recommendation: the INN of the client who recommended this company."),
    )
    company_name = forms.CharField(label=_("Company name"), max_length=500, required=False)
    inn = forms.CharField(label=_("INN"), max_length=32, required=False)
    city = forms.CharField(label=_("City"), max_length=120, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=255, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    text = forms.CharField(label=_("What they ask"), required=False, widget=_textarea(5))

    def __init__(self, *args: Any, actor: User, sources: list[ContactSource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        source_field: Any = self.fields["source"]
        source_field.set_sources(sources)
        self.recommendation_sources = [s.pk for s in sources if s.is_recommendation]
        attrs = self.fields["phone"].widget.attrs
        attrs.update({"type": "tel", "autocomplete": "off", "placeholder": "+7 …"})
        self.fields["email"].widget.input_type = "email"
        self.fields["company_name"].widget.attrs["placeholder"] = _("As the caller names it")

    def clean_referred_by(self) -> Company | None:
        return referrer_by_inn(self.actor, self.cleaned_data.get("referred_by"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any(data.get(name) for name in ("company_name", "inn", "contact_name", "phone", "email")):
            raise forms.ValidationError(
                _("Enter at least the company, its INN, a person, a phone or an e-mail."), code="empty"
            )
        return data


class InquiryFilterForm(forms.Form):
    """The filters of the inquiry list; every value is optional and bad ones are ignored."""

    SCOPE_MINE = "mine"
    SCOPE_ALL = "all"

    scope = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[(SCOPE_MINE, _("Mine and unassigned")), (SCOPE_ALL, _("All inquiries"))],
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    curator = forms.TypedChoiceField(label=_("Curator"), required=False, coerce=int, empty_value=None)
    late = forms.BooleanField(label=_("Late only"), required=False)
    needs_review = forms.BooleanField(label=_("Waiting for review"), required=False)

    def __init__(self, *args: Any, curators: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["status"].choices = [
            ("", _("Open (new and taken)")),
            ("all", _("Any status")),
            *InquiryStatus.choices,
        ]
        fields["channel"].choices = [("", _("All channels")), *Channel.choices]
        fields["curator"].choices = [("", _("All curators")), *((u.pk, u.full_name) for u in curators)]
        fields["q"].widget.attrs.update(
            {
                "placeholder": _("Company, INN, person, phone or e-mail"),
                "autocomplete": "off",
                "class": "form-control",
            }
        )
        fields["q"].widget.input_type = "search"
        fields["q"].widget.attrs["aria-label"] = _("Search")
        for name in ("status", "channel", "curator"):
            fields[name].widget.attrs.update({"class": "form-select", "aria-label": fields[name].label})
        for name in ("late", "needs_review"):
            fields[name].widget.attrs["class"] = "form-check-input"

    def values(self) -> dict[str, Any]:
        """Valid values only: a bad parameter in a shared link narrows nothing instead of failing."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned.get(name) for name in self.fields if name not in self.errors}


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejection"),
        widget=_textarea(3),
        max_length=1000,
        help_text=_("For example: spam, a private person, not our product, a duplicate of another inquiry."),
    )


class ConfirmMatchForm(forms.Form):
    """The head of sales' verdict on a possible match: this company, or a new client (R2)."""

    NEW_CLIENT = "new"

    decision = forms.CharField(widget=forms.HiddenInput, required=False)
    company = forms.IntegerField(label=_("Company"), required=False, min_value=1, max_value=2**63 - 1)
    company_query = forms.CharField(
        label=_("Or another company: INN or name"),
        max_length=200,
        required=False,
        help_text=_("When the right company is not among the candidates."),
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["company_query"].widget.attrs["autocomplete"] = "off"

    def _find(self, query: str) -> Company | None:
        """The one company the head of sales named by INN or by (part of) its name."""
        companies = visible_companies(self.actor).filter(merged_into__isnull=True)
        digits = clean_number(query)
        if digits.isdigit() and len(digits) in (10, 12):
            found = list(companies.filter(inn=digits).order_by("id")[:1])
        else:
            found = list(company_list(actor=self.actor, search=query).filter(merged_into__isnull=True)[:2])
        if len(found) > 1:
            self.add_error(
                "company_query",
                forms.ValidationError(
                    _("Several companies match “%(query)s”: type more of the name, or the INN."),
                    code="ambiguous",
                    params={"query": query},
                ),
            )
            return None
        if not found:
            self.add_error(
                "company_query",
                forms.ValidationError(
                    _("No company matching “%(query)s” is in the base."),
                    code="not_found",
                    params={"query": query},
                ),
            )
            return None
        return found[0]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == self.NEW_CLIENT:
            data["target"] = None
            return data
        query = " ".join((data.get("company_query") or "").split())
        target = None
        if query:
            target = self._find(query)
        elif data.get("company"):
            target = (
                visible_companies(self.actor).filter(pk=data["company"], merged_into__isnull=True).first()
            )
            if target is None:
                self.add_error(
                    "company", forms.ValidationError(_("This company is not in the base."), code="not_found")
                )
        else:
            raise forms.ValidationError(_("Choose a company or declare a new client."), code="required")
        data["target"] = target
        return data


# Settings -------------------------------------------------------------------------------------------------

UNIT_MINUTES = {"min": 1, "h": 60, "d": 24 * 60}


class DurationWidget(forms.MultiWidget):
    template_name = "inquiries/_duration_widget.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets = (
            forms.NumberInput(attrs={"min": 1, "class": "form-control", "style": "max-width: 7rem"}),
            forms.Select(
                choices=[
                    ("min", pgettext_lazy("unit", "minutes")),
                    ("h", pgettext_lazy("unit", "hours")),
                    ("d", pgettext_lazy("unit", "days")),
                ],
                attrs={"class": "form-select", "style": "max-width: 9rem"},
            ),
        )
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if not value:
            return [None, "min"]
        minutes = int(value)
        for unit in ("d", "h"):
            if minutes % UNIT_MINUTES[unit] == 0:
                return [minutes // UNIT_MINUTES[unit], unit]
        return [minutes, "min"]


class DurationField(forms.MultiValueField):
    """A time limit typed as a number and a unit (minutes, hours, days); cleans to minutes."""

    widget = DurationWidget

    def __init__(self, **kwargs: Any) -> None:
        fields = (
            forms.IntegerField(min_value=1, max_value=60 * 24 * 60),
            forms.ChoiceField(choices=[(u, u) for u in UNIT_MINUTES]),
        )
        super().__init__(fields, require_all_fields=True, **kwargs)

    def compress(self, data_list: list[Any]) -> int | None:
        if not data_list or data_list[0] in (None, ""):
            return None
        return int(data_list[0]) * UNIT_MINUTES[data_list[1]]


class ResponseStandardsForm(forms.Form):
    """One time limit per channel (R1)."""

    def __init__(self, *args: Any, current: dict[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in Channel.choices:
            self.fields[value] = DurationField(label=label, initial=current.get(value), required=False)

    def minutes(self) -> dict[str, int]:
        return {k: v for k, v in self.cleaned_data.items() if v}


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.full_name


class DistributionRuleForm(forms.Form):
    """A distribution rule (R2): who gets new clients of a region, industry, sales technology, or in turn."""

    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=RuleKind.choices)
    value = forms.CharField(
        label=_("City or region"),
        max_length=200,
        required=False,
        help_text=_("For a region rule: the city as it is written in inquiries and dossiers."),
    )
    sphere = forms.ModelChoiceField(
        label=_("Application sphere"),
        queryset=ApplicationSphere.objects.none(),
        required=False,
        empty_label="—",
    )
    sales_technology = forms.ModelChoiceField(
        label=_("Sales technology"), queryset=SalesTechnology.objects.none(), required=False, empty_label="—"
    )
    members = MemberChoiceField(
        label=_("Team"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("New clients go to the member who got one longest ago."),
    )
    position = forms.IntegerField(
        label=pgettext_lazy("order in lists", "Position"),
        min_value=0,
        initial=0,
        help_text=_("Rules are tried in this order; the first that fits wins."),
    )
    is_active = forms.BooleanField(
        label=pgettext_lazy("distribution rule", "Active"), required=False, initial=True
    )

    def __init__(self, *args: Any, rule: DistributionRule | None = None, **kwargs: Any) -> None:
        if rule is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": rule.name,
                "kind": rule.kind,
                "value": rule.value,
                "sphere": rule.sphere_id,
                "sales_technology": rule.sales_technology_id,
                "members": [m.pk for m in rule.members.all()],
                "position": rule.position,
                "is_active": rule.is_active,
            }
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["sphere"].queryset = ApplicationSphere.objects.filter(
            Q(is_active=True) | Q(pk=getattr(rule, "sphere_id", None))
        ).order_by("position", "name")
        fields["sales_technology"].queryset = SalesTechnology.objects.filter(
            Q(is_active=True) | Q(pk=getattr(rule, "sales_technology_id", None))
        ).order_by("position", "name")
        members = [m.pk for m in rule.members.all()] if rule is not None else []
        fields["members"].queryset = (curator_candidates() | User.objects.filter(pk__in=members)).distinct()

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["position"] = data.get("position") or 0
        data["members"] = list(data.get("members") or [])
        return data


class PublicMailDomainForm(forms.Form):
    domain = forms.CharField(
        label=_("Domain"),
        max_length=255,
        help_text=_("A mail service anyone can use, such as mail.ru: its addresses never match a company."),
    )
    domain.widget.attrs.update({"placeholder": "mail.example", "autocomplete": "off"})


# The public web form ---------------------------------------------------------------------------------------

# The honeypot's name looks like a field a bot wants to fill; people never see it.
HONEYPOT_FIELD = "website"


class PublicInquiryForm(forms.Form):
    """The web form a company embeds on its site (no login). The honeypot and the signed token are checked by
    the view; this form only parses what a visitor types."""

    company_name = forms.CharField(label=_("Company"), max_length=500)
    inn = forms.CharField(label=_("INN (if you know it)"), max_length=32, required=False)
    contact_name = forms.CharField(label=_("Your name"), max_length=255)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    text = forms.CharField(label=_("Your question"), required=False, max_length=5000, widget=_textarea(4))
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    source = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**63 - 1)
    website = forms.CharField(label=_("Leave this field empty"), required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update({"type": "tel", "autocomplete": "tel"})
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["contact_name"].widget.attrs["autocomplete"] = "name"
        self.fields["company_name"].widget.attrs["autocomplete"] = "organization"
        self.fields[HONEYPOT_FIELD].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("phone") and not data.get("email"):
            raise forms.ValidationError(
                _("Leave a phone or an e-mail so that we can answer."), code="no_contact"
            )
        return data

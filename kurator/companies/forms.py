"""Forms of the dossier pages. They only parse input: every rule lives in kurator.companies.services, whose
ValidationError is attached back to these fields (kurator.core.forms.apply_service_errors), so each form field
is named exactly like the service argument it feeds."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kurator.access.scoping import curator_candidates, visible_companies
from kurator.accounts.models import User
from kurator.companies import selectors
from kurator.companies.models import (
    ApplicationSphere,
    Company,
    CompanyStatus,
    Contact,
    ContactSource,
    DecisionRole,
    DeliveryMethod,
    LegalForm,
    ProductCategory,
    SalesTechnology,
)
from kurator.companies.reports import Period, default_period
from kurator.core.requisites import clean_number, format_phone
from kurator.core.text import fold
from kurator.core.widgets import FastSelect, UserChoiceField, date_widget

LIST_HINT = _("One per line or separated by commas.")
# The radio buttons of the recommending-client picker, and how many matches it offers.
REFERRER_CHOICE = "referred_by_id"
REFERRER_MATCHES = 10


def _names(company: Company, text: str) -> bool:
    """Whether ``text`` names ``company`` exactly: its short or full name, or its INN."""
    folded = fold(text)
    return folded in (fold(company.short_name), fold(company.full_name)) or clean_number(text) == company.inn


def _lines(values: list[str], *, phones: bool = False) -> str:
    return "\n".join(format_phone(v) if phones else v for v in values or [])


def _dictionary(model: Any, current: Any) -> QuerySet[Any]:
    """Active entries plus the one already chosen, so that a deactivated value survives an edit."""
    condition = Q(is_active=True)
    if current is not None:
        condition |= Q(pk=getattr(current, "pk", current))
    return model.objects.filter(condition).order_by("position", "name")


class SourceChoiceField(forms.ModelChoiceField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("empty_label", "—")
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: ContactSource) -> str:
        return f"{obj.parent.name} → {obj.name}" if obj.parent is not None else obj.name


class CuratorChoiceField(UserChoiceField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("empty_label", "—")
        super().__init__(*args, **kwargs)


def _textarea(rows: int = 2) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class CompanyForm(forms.Form):
    """Create or edit a company (D1, D9, D10, S2); ``curator`` is there only for who assigns curators (R2)."""

    full_name = forms.CharField(label=_("Full legal name"), max_length=500)
    short_name = forms.CharField(
        label=_("Short name"),
        max_length=255,
        required=False,
        help_text=_(
            "As people say it. Left empty, it is made from the full name with the legal form shortened."
        ),
    )
    legal_form = forms.ChoiceField(label=_("Legal form"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=CompanyStatus.choices)
    curator = CuratorChoiceField(
        label=_("Curator"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Leave empty to become the curator yourself."),
    )
    inn = forms.CharField(label=_("INN"), max_length=32, required=False)
    kpp = forms.CharField(label=_("KPP"), max_length=32, required=False)
    ogrn = forms.CharField(label=_("OGRN/OGRNIP"), max_length=32, required=False)
    legal_address = forms.CharField(label=_("Legal address"), required=False, widget=_textarea())
    actual_address = forms.CharField(label=_("Actual address"), required=False, widget=_textarea())
    city = forms.CharField(label=_("City"), max_length=120, required=False)
    phones = forms.CharField(label=_("Phones"), required=False, widget=_textarea(), help_text=LIST_HINT)
    fax = forms.CharField(label=_("Fax"), max_length=32, required=False)
    emails = forms.CharField(label=_("E-mails"), required=False, widget=_textarea(), help_text=LIST_HINT)
    website = forms.CharField(label=_("Website"), max_length=300, required=False)
    founded_on = forms.DateField(
        label=_("Founding date"),
        required=False,
        widget=date_widget(),
        help_text=_("The company's birthday."),
    )
    source = SourceChoiceField(
        label=_("Contact source"), queryset=ContactSource.objects.none(), required=False
    )
    referred_by = forms.CharField(
        label=_("Recommended by"),
        max_length=500,
        required=False,
        help_text=_(
            "For a recommendation: type part of the client's name or its INN and pick it from the list."
        ),
    )
    application_sphere = forms.ModelChoiceField(
        label=_("Application sphere"),
        queryset=ApplicationSphere.objects.none(),
        required=False,
        empty_label="—",
    )
    product_categories = forms.ModelMultipleChoiceField(
        label=_("Product categories bought"),
        queryset=ProductCategory.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    delivery_method = forms.ModelChoiceField(
        label=_("Delivery method"), queryset=DeliveryMethod.objects.none(), required=False, empty_label="—"
    )
    sales_technology = forms.ModelChoiceField(
        label=_("Sales technology"), queryset=SalesTechnology.objects.none(), required=False, empty_label="—"
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=_textarea(3))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        actor: User,
        company: Company | None = None,
        with_curator: bool = False,
        **kwargs: Any,
    ) -> None:
        if company is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(company)
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.company = company
        legal_forms = [("", "—"), *LegalForm.choices]
        if company is not None and company.legal_form and company.legal_form not in LegalForm.values:
            legal_forms.append((company.legal_form, company.legal_form))  # detected from an imported name
        fields: Any = self.fields
        fields["legal_form"].choices = legal_forms
        # Sub-sources right after their parent, as in the dictionary and the list's filter.
        fields["source"].queryset = selectors.sources_in_tree_order(
            _dictionary(ContactSource, company and company.source_id)
        )
        fields["application_sphere"].queryset = _dictionary(
            ApplicationSphere, company and company.application_sphere_id
        )
        fields["delivery_method"].queryset = _dictionary(
            DeliveryMethod, company and company.delivery_method_id
        )
        fields["sales_technology"].queryset = _dictionary(
            SalesTechnology, company and company.sales_technology_id
        )
        chosen = [c.pk for c in company.product_categories.all()] if company is not None else []
        fields["product_categories"].queryset = ProductCategory.objects.filter(
            Q(is_active=True) | Q(pk__in=chosen)
        ).order_by("position", "name")
        # Search as you type: the matches come from companies:referrers and are picked as radio buttons
        # named REFERRER_CHOICE (plain radio buttons, so picking works without JavaScript too).
        attrs = fields["referred_by"].widget.attrs
        attrs.update(
            {
                "autocomplete": "off",
                "hx-get": reverse("companies:referrers"),
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#referrer-options",
                "hx-sync": "this:replace",
            }
        )
        if company is not None:
            attrs["hx-vals"] = json.dumps({"for": company.pk})
        # Matches to choose from when the typed name or INN is ambiguous (branches share an INN).
        self.referrer_candidates: list[Company] = []
        if with_curator:
            fields["curator"].queryset = curator_candidates()
        else:
            del self.fields["curator"]
        if company is None:
            del self.fields["version"]

    @staticmethod
    def initial_for(company: Company) -> dict[str, Any]:
        referrer = company.referred_by
        return {
            "full_name": company.full_name,
            "short_name": company.short_name,
            "legal_form": company.legal_form,
            "status": company.status,
            "inn": company.inn,
            "kpp": company.kpp,
            "ogrn": company.ogrn,
            "legal_address": company.legal_address,
            "actual_address": company.actual_address,
            "city": company.city,
            "phones": _lines(company.phones, phones=True),
            "fax": company.fax,
            "emails": _lines(company.emails),
            "website": company.website,
            "founded_on": company.founded_on,
            "source": company.source_id,
            "referred_by": referrer.short_name if referrer is not None else "",
            "application_sphere": company.application_sphere_id,
            "product_categories": [c.pk for c in company.product_categories.all()],
            "delivery_method": company.delivery_method_id,
            "sales_technology": company.sales_technology_id,
            "notes": company.notes,
            "version": company.version,
        }

    @property
    def referrer_choice_id(self) -> int | None:
        """The client picked from the list (kept across a re-rendered form), or the current referrer."""
        if self.is_bound:
            try:
                return int(self.data.get(REFERRER_CHOICE) or 0) or None
            except (TypeError, ValueError):
                return None
        return self.company.referred_by_id if self.company is not None else None

    def clean_referred_by(self) -> Company | None:
        """The recommending client: the one picked from the list while its name is still in the box, else
        the one the typed INN or name points to. An ambiguous answer (branches share an INN, a name fragment
        fits several clients) is refused with the matches offered to pick from."""
        text = " ".join((self.cleaned_data.get("referred_by") or "").split())
        if not text:
            return None
        visible = visible_companies(self.actor)
        own_pk = self.company.pk if self.company is not None else None
        picked = visible.filter(pk=self.referrer_choice_id).first() if self.referrer_choice_id else None
        # A pick counts while the box still points to it (typed over, the box wins): JavaScript writes the
        # picked name into the box; without it the box keeps the fragment the matches were found by.
        if picked is not None and (
            _names(picked, text)
            or selectors.company_list(actor=self.actor, search=text).filter(pk=picked.pk).exists()
        ):
            return self._not_itself(picked, own_pk)

        inn = clean_number(text)
        if inn.isdigit() and len(inn) in (10, 12):
            candidates = list(visible.filter(inn=inn).order_by("id")[: REFERRER_MATCHES + 1])
            if not candidates:
                raise forms.ValidationError(
                    _("No client with INN %(inn)s is in the base."),
                    code="referrer_not_found",
                    params={"inn": inn},
                )
            message = _(
                "Several companies have INN %(inn)s (a head office and its branches): pick the one that "
                "recommended this company."
            )
            return self._one_of(candidates, own_pk, message, {"inn": inn})

        candidates = list(selectors.company_list(actor=self.actor, search=text)[: REFERRER_MATCHES + 1])
        exact = [c for c in candidates if _names(c, text)]
        if not candidates:
            raise forms.ValidationError(
                _(
                    "No client matches “%(text)s”: type part of its name or its INN and pick it from the "
                    "list."
                ),
                code="referrer_not_found",
                params={"text": text},
            )
        message = _("Several clients match “%(text)s”: pick the one that recommended this company.")
        return self._one_of(exact if len(exact) == 1 else candidates, own_pk, message, {"text": text})

    def _one_of(
        self, candidates: list[Company], own_pk: int | None, message: Any, params: dict[str, Any]
    ) -> Company:
        others = [c for c in candidates if c.pk != own_pk]
        if not others:
            return self._not_itself(candidates[0], own_pk)
        if len(others) > 1:
            self.referrer_candidates = others[:REFERRER_MATCHES]
            raise forms.ValidationError(message, code="referrer_ambiguous", params=params)
        return others[0]

    @staticmethod
    def _not_itself(company: Company, own_pk: int | None) -> Company:
        if company.pk == own_pk:
            raise forms.ValidationError(_("A company cannot recommend itself."), code="self_reference")
        return company

    def service_fields(self) -> dict[str, Any]:
        """The cleaned values as keyword arguments of company_create / company_update."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if "curator" in data and data["curator"] is None:
            data.pop("curator")
        return data


class ContactForm(forms.Form):
    """A person of the client company (D2, D10)."""

    full_name = forms.CharField(label=_("Full name"), max_length=255)
    position = forms.CharField(label=_("Position"), max_length=255, required=False)
    department = forms.CharField(label=_("Department"), max_length=255, required=False)
    reports_to = forms.ModelChoiceField(
        label=_("Reports to"), queryset=Contact.objects.none(), required=False, empty_label="—"
    )
    decision_role = forms.ChoiceField(
        label=_("Part in the buying decision"), choices=DecisionRole.choices, initial=DecisionRole.OTHER
    )
    phones = forms.CharField(label=_("Phones"), required=False, widget=_textarea(), help_text=LIST_HINT)
    emails = forms.CharField(label=_("E-mails"), required=False, widget=_textarea(), help_text=LIST_HINT)
    birthday = forms.DateField(label=_("Birthday"), required=False, widget=date_widget())
    is_leader = forms.BooleanField(
        label=_("Leader of the company"),
        required=False,
        help_text=_("Leaders' birthdays are reminded to the curator."),
    )
    is_active = forms.BooleanField(label=_("Works at the company"), required=False, initial=True)
    notes = forms.CharField(label=_("Notes"), required=False, widget=_textarea(3))

    def __init__(
        self,
        *args: Any,
        company: Company,
        colleagues: list[Contact],
        contact: Contact | None = None,
        **kwargs: Any,
    ) -> None:
        if contact is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "full_name": contact.full_name,
                "position": contact.position,
                "department": contact.department,
                "reports_to": contact.reports_to_id,
                "decision_role": contact.decision_role,
                "phones": _lines(contact.phones, phones=True),
                "emails": _lines(contact.emails),
                "birthday": contact.birthday,
                "is_leader": contact.is_leader,
                "is_active": contact.is_active,
                "notes": contact.notes,
            }
        super().__init__(*args, **kwargs)
        # Only people of the same company, and never the person or their own subordinates (a circle).
        excluded = _subordinates(contact, colleagues) if contact is not None else set()
        field: Any = self.fields["reports_to"]
        field.queryset = (
            Contact.objects.filter(company=company).exclude(pk__in=excluded).order_by("full_name")
        )


def _subordinates(contact: Contact, colleagues: list[Contact]) -> set[int]:
    found = {contact.pk}
    changed = True
    while changed:
        changed = False
        for other in colleagues:
            if other.reports_to_id in found and other.pk not in found:
                found.add(other.pk)
                changed = True
    return found


class BankAccountForm(forms.Form):
    """Payment requisites (D1): BIK and accounts, checked by the services with the Bank of Russia keys."""

    bik = forms.CharField(label=_("BIK"), max_length=32)
    bank_name = forms.CharField(label=_("Bank"), max_length=255, required=False)
    settlement_account = forms.CharField(label=_("Settlement account"), max_length=40)
    correspondent_account = forms.CharField(label=_("Correspondent account"), max_length=40, required=False)
    is_primary = forms.BooleanField(
        label=_("Primary account"), required=False, help_text=_("Used in contracts and invoices by default.")
    )


class CuratorForm(forms.Form):
    """Hand a client to another curator (R2): head of sales only, always with a reason."""

    curator = CuratorChoiceField(label=_("New curator"), queryset=User.objects.none())
    reason = forms.CharField(
        label=_("Reason"),
        widget=_textarea(3),
        max_length=100,
        help_text=_("Kept in the history of the dossier."),
    )

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.company = company
        field: Any = self.fields["curator"]
        field.queryset = curator_candidates()

    def clean_curator(self) -> User:
        curator: User = self.cleaned_data["curator"]
        if curator.pk == self.company.curator_id:
            raise forms.ValidationError(_("This user is already the curator."), code="same_curator")
        return curator


class DictionaryItemForm(forms.Form):
    """An entry of a dictionary; sources also have a parent and the recommendation flag (S2)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    parent = SourceChoiceField(
        label=_("Parent source"),
        queryset=ContactSource.objects.none(),
        required=False,
        help_text=_("Leave empty for a top-level source."),
    )
    position = forms.IntegerField(
        label=pgettext_lazy("order in lists", "Position"),
        min_value=0,
        required=False,
        help_text=_("Smaller numbers come first in lists. Left empty, a new entry goes to the end."),
    )
    is_recommendation = forms.BooleanField(
        label=_("Recommendation of a client"),
        required=False,
        help_text=_("Companies from this source name the client who recommended them."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, kind: str, item: Any = None, **kwargs: Any) -> None:
        if item is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": item.name,
                "position": item.position,
                "is_active": item.is_active,
                "parent": getattr(item, "parent_id", None),
                "is_recommendation": getattr(item, "is_recommendation", False),
            }
        super().__init__(*args, **kwargs)
        if kind == "sources":
            parents = ContactSource.objects.filter(parent__isnull=True)
            if item is not None:
                parents = parents.exclude(pk=item.pk)
            field: Any = self.fields["parent"]
            field.queryset = parents.order_by("position", "name")
        else:
            del self.fields["parent"]
            del self.fields["is_recommendation"]

    def service_fields(self) -> dict[str, Any]:
        """Keyword arguments of services.dictionary_item_save (name, position, is_active and extras)."""
        data = dict(self.cleaned_data)
        if data.get("position") is None:
            data.pop("position", None)  # the service puts a new entry last and keeps an existing one's place
        return data


class CompanyFilterForm(forms.Form):
    """The search, filters and sort of the company list. Every value is optional; a bad filter is reported
    (the list shows nothing rather than everything), a bad sort or page size falls back to the default."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    curator = forms.TypedChoiceField(
        label=_("Curator"), required=False, coerce=int, empty_value=None, widget=FastSelect
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    source = forms.TypedChoiceField(label=_("Source"), required=False, coerce=int, empty_value=None)
    city = forms.CharField(label=_("City"), required=False, max_length=120)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)
    per_page = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.HiddenInput,
        choices=[(n, n) for n in (25, 50, 100)],
    )

    def __init__(self, *args: Any, curators: list[User], sources: list[ContactSource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["curator"].choices = [("", _("All curators")), *((u.pk, u.full_name) for u in curators)]
        fields["status"].choices = [("", _("All statuses")), *CompanyStatus.choices]
        fields["source"].choices = [
            ("", _("All sources")),
            *((s.pk, f"{s.parent.name} → {s.name}" if s.parent_id else s.name) for s in sources),  # type: ignore[union-attr]
        ]
        fields["q"].widget.attrs.update(
            {"placeholder": _("Name, INN or phone"), "autocomplete": "off", "class": "form-control"}
        )
        fields["q"].widget.input_type = "search"
        fields["city"].widget.attrs.update({"placeholder": _("Any city"), "list": "city-options"})

    def full_clean(self) -> None:
        super().full_clean()
        # The search box is drawn by hand (it has an icon), so it is marked invalid here, not by {% field %}.
        if "q" in self.errors:
            attrs = self.fields["q"].widget.attrs
            attrs.update({"class": f"{attrs.get('class', '')} is-invalid", "aria-invalid": "true"})
            attrs["aria-describedby"] = f"{self['q'].auto_id}_errors"

    # The fields that narrow the list; a bad sort or page size only falls back to the default.
    FILTERS = ("q", "curator", "status", "source", "city")

    def values(self) -> dict[str, Any]:
        """The valid values; check ``filter_errors`` before trusting that the list is narrowed by them."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned.get(name) for name in self.fields if name not in self.errors}

    def filter_errors(self) -> list[tuple[str, list[str]]]:
        """(field label, messages) of every filter that could not be applied."""
        self.is_valid()
        bad = [name for name in self.FILTERS if name in self.errors]
        return [(str(self.fields[name].label), [str(e) for e in self.errors[name]]) for name in bad]


# Merge, reassignment and reports (R2, S2) -------------------------------------------------------------------


class MergeSearchForm(forms.Form):
    """Find the duplicate to merge into the open dossier."""

    q = forms.CharField(label=_("INN or name"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["q"]
        field.widget.input_type = "search"
        field.widget.attrs.update(
            {"placeholder": _("INN, name or phone"), "autocomplete": "off", "class": "form-control"}
        )


class MergeForm(forms.Form):
    """Confirm a merge; the reason is kept in the history of both dossiers."""

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=100,
        widget=_textarea(2),
        help_text=_("Kept in the history of both dossiers."),
    )


class ReportPeriodForm(forms.Form):
    """The period of a report: ``from`` and ``to`` dates, both included (the last 90 days by default)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ``from`` is a Python keyword, so the fields are added by name.
        self.fields["from"] = forms.DateField(label=_("From"), required=False, widget=date_widget())
        self.fields["to"] = forms.DateField(label=_("To"), required=False, widget=date_widget())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            message = _("The end of the period is before its start.")
            self.add_error("to", forms.ValidationError(message, code="period_order"))
        return cleaned

    def period(self) -> Period:
        """The chosen period: a missing end is today, a missing start 90 days before the end; an invalid
        form gives the default period (the page shows the errors next to the fields)."""
        cleaned = self.cleaned_data if self.is_valid() else {}
        default = default_period()
        end = cleaned.get("to") or default.date_to
        start = cleaned.get("from") or end - (default.date_to - default.date_from)
        return Period(min(start, end), end)

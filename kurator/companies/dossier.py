"""The dossier checklist (from the book's list of what a client dossier holds) and derived values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kurator.companies.models import BankAccount, Company, Contact, DecisionRole, LegalForm
from kurator.core.text import fold, normalize_company_name, search_digits


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    label: Promise
    section: str


CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem("inn", _("INN"), "requisites"),
    ChecklistItem("kpp", _("KPP"), "requisites"),
    ChecklistItem("ogrn", _("OGRN/OGRNIP"), "requisites"),
    ChecklistItem("bank_account", _("a bank account"), "requisites"),
    ChecklistItem("legal_address", _("legal address"), "general"),
    ChecklistItem("actual_address", _("actual address"), "general"),
    ChecklistItem("phones", _("a company phone"), "general"),
    ChecklistItem("emails", _("a company e-mail"), "general"),
    ChecklistItem("website", _("website"), "general"),
    ChecklistItem("founded_on", _("founding date"), "general"),
    ChecklistItem("source", _("contact source"), "general"),
    ChecklistItem("decision_maker", _("a decision maker among the people"), "people"),
    ChecklistItem("person_contacts", _("a phone or e-mail of a person"), "people"),
    ChecklistItem("leader_birthday", _("a leader's birthday"), "people"),
    ChecklistItem("application_sphere", _("application sphere"), "profile"),
    ChecklistItem("product_categories", _("product categories bought"), "profile"),
    ChecklistItem("delivery_method", _("delivery method"), "profile"),
    ChecklistItem("sales_technology", _("sales technology"), "profile"),
)


def checklist_status(
    company: Company, contacts: list[Contact], has_bank_account: bool, has_categories: bool
) -> dict[str, bool]:
    active = [c for c in contacts if c.is_active]
    return {
        "inn": bool(company.inn),
        # A sole trader has no KPP: it is complete without one.
        "kpp": bool(company.kpp) or company.legal_form == LegalForm.IP or len(company.inn) == 12,
        "ogrn": bool(company.ogrn),
        "bank_account": has_bank_account,
        "legal_address": bool(company.legal_address),
        "actual_address": bool(company.actual_address),
        "phones": bool(company.phones),
        "emails": bool(company.emails),
        "website": bool(company.website),
        "founded_on": company.founded_on is not None,
        "source": company.source_id is not None,
        "decision_maker": any(c.decision_role == DecisionRole.DECISION_MAKER for c in active),
        "person_contacts": any(c.phones or c.emails for c in active),
        "leader_birthday": any(c.is_leader and c.birthday for c in active),
        "application_sphere": company.application_sphere_id is not None,
        "product_categories": has_categories,
        "delivery_method": company.delivery_method_id is not None,
        "sales_technology": company.sales_technology_id is not None,
    }


def completeness_of(status: dict[str, bool]) -> int:
    return round(100 * sum(status.values()) / len(status))


def missing_items(status: dict[str, bool]) -> list[ChecklistItem]:
    return [item for item in CHECKLIST if not status[item.code]]


def build_search_text(company: Company, contacts: list[Contact]) -> str:
    parts: list[str] = [company.short_name, company.full_name, company.inn, company.kpp, company.ogrn]
    parts.append(company.city)
    parts += [search_digits(p) for p in company.phones]
    parts += list(company.emails)
    for contact in contacts:
        parts.append(contact.full_name)
        parts += [search_digits(p) for p in contact.phones]
        parts += list(contact.emails)
    return fold(" ".join(p for p in parts if p))


def build_sort_name(company: Company) -> str:
    return (normalize_company_name(company.short_name) or fold(company.short_name))[:255]


def company_derived_fields(company: Company) -> dict[str, Any]:
    contacts = list(Contact.objects.filter(company=company))
    has_bank = BankAccount.objects.filter(company=company).exists()
    has_categories = company.product_categories.exists()
    status = checklist_status(company, contacts, has_bank, has_categories)
    return {
        "completeness": completeness_of(status),
        "search_text": build_search_text(company, contacts),
        "sort_name": build_sort_name(company),
    }


SECTIONS: tuple[tuple[str, Promise, str], ...] = (
    ("general", _("General information"), "general_updated_at"),
    ("requisites", _("Requisites"), "requisites_updated_at"),
    ("people", _("People"), "people_updated_at"),
    ("profile", _("Purchase profile"), "profile_updated_at"),
)


def section_freshness(company: Company) -> list[dict[str, Any]]:
    """When each section was last updated and whether it is stale (D11)."""
    limit = timezone.now() - timedelta(days=settings.KURATOR_STALE_AFTER_DAYS)
    result = []
    for code, label, field in SECTIONS:
        updated = getattr(company, field)
        # A section never filled counts from the day the dossier was opened: a new dossier is not yet stale.
        reference = updated or company.created_at
        result.append(
            {
                "code": code,
                "label": label,
                "updated_at": updated,
                "stale": reference is None or reference < limit,
            }
        )
    return result

"""What an actor may see. Every selector starts here."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kurator.access.policy import CURATOR_ROLES, can
from kurator.accounts.models import User
from kurator.companies.models import BankAccount, Company, Contact


def visible_companies(actor: Any) -> QuerySet[Company]:
    # Openness (R3): the whole department reads every dossier; outsiders see nothing.
    if can(actor, "companies.view_company"):
        return Company.objects.all()
    return Company.objects.none()


def visible_contacts(actor: Any) -> QuerySet[Contact]:
    if can(actor, "companies.view_company"):
        return Contact.objects.all()
    return Contact.objects.none()


def visible_bank_accounts(actor: Any) -> QuerySet[BankAccount]:
    if can(actor, "companies.view_company"):
        return BankAccount.objects.all()
    return BankAccount.objects.none()


def access_company_by_id(
    actor: Any, company_id: Any, *, queryset: QuerySet[Company] | None = None
) -> Company:
    qs = queryset if queryset is not None else visible_companies(actor)
    try:
        return qs.get(pk=int(company_id))
    except (Company.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def access_contact_by_id(actor: Any, contact_id: Any) -> Contact:
    try:
        return visible_contacts(actor).select_related("company").get(pk=int(contact_id))
    except (Contact.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def access_bank_account_by_id(actor: Any, account_id: Any) -> BankAccount:
    try:
        return visible_bank_accounts(actor).select_related("company").get(pk=int(account_id))
    except (BankAccount.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def curator_candidates() -> QuerySet[User]:
    """Users who may curate a client (R2): active members of the sales roles or administrators.

    Kept here, next to the policy, so that forms and filters list curators without looking at roles.
    """
    return User.objects.filter(is_active=True, role__in=CURATOR_ROLES).order_by(
        "last_name", "first_name", "username"
    )

"""What an actor may see. Every selector starts here."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kurator.access.policy import CURATOR_ROLES, can
from kurator.accounts.models import Role, User
from kurator.activities.models import Activity, Task
from kurator.companies.models import BankAccount, Company, Contact
from kurator.core.pagination import mark_unselective
from kurator.documents.models import Document
from kurator.finance.models import FinancialStatement
from kurator.sales.models import Deal


def visible_companies(actor: Any, *, include_merged: bool = False) -> QuerySet[Company]:
    """The companies ``actor`` may read.

    Openness (R3): the whole department reads every dossier; outsiders see nothing. A merged duplicate is not
    a client any more, so lists, search, matching and counts skip it (``include_merged`` is for the merge
    itself and for resolving old ids); its row stays, nothing is lost (D12)."""
    if not can(actor, "companies.view_company"):
        return Company.objects.none()
    if include_merged:
        return Company.objects.all()
    # Nearly every row is live: the condition must not make the list paginator give up the sort index.
    return mark_unselective(Company.objects.filter(merged_into__isnull=True))


def visible_contacts(actor: Any) -> QuerySet[Contact]:
    if can(actor, "companies.view_company"):
        return Contact.objects.all()
    return Contact.objects.none()


def visible_bank_accounts(actor: Any) -> QuerySet[BankAccount]:
    if can(actor, "companies.view_company"):
        return BankAccount.objects.all()
    return BankAccount.objects.none()


# Merges never make chains (company_merge re-points earlier duplicates to the new survivor); the bound only
# guards against a cycle written by hand.
MAX_MERGE_HOPS = 10


def merged_survivor_id(actor: Any, company_id: Any) -> int | None:
    """The id of the company a merged duplicate ``company_id`` now lives in, following the chain; None when
    the id is not a merged company the actor may read."""
    try:
        current = int(company_id)
    except (TypeError, ValueError):
        return None
    qs = visible_companies(actor, include_merged=True)
    survivor: int | None = None
    for _hop in range(MAX_MERGE_HOPS):
        target = qs.filter(pk=current).values_list("merged_into_id", flat=True).first()
        if target is None:
            break
        survivor = current = target
    return survivor


def access_company_by_id(
    actor: Any, company_id: Any, *, queryset: QuerySet[Company] | None = None
) -> Company:
    """The company with ``company_id``; the id of a merged duplicate resolves to its survivor (callers that
    must tell the two apart compare the ids). 404 for what the actor may not see."""
    qs = queryset if queryset is not None else visible_companies(actor)
    try:
        return qs.get(pk=int(company_id))
    except (Company.DoesNotExist, TypeError, ValueError):
        pass
    # Only a miss pays for the look-up of a merge: a live company costs one query, as before.
    survivor_id = merged_survivor_id(actor, company_id)
    if survivor_id is None:
        raise Http404
    try:
        return qs.get(pk=survivor_id)
    except Company.DoesNotExist:
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


def visible_deals(actor: Any) -> QuerySet[Deal]:
    """Openness (R3): every member of the department reads every deal."""
    if can(actor, "sales.view_deal"):
        return Deal.objects.all()
    return Deal.objects.none()


def access_deal_by_id(actor: Any, deal_id: Any) -> Deal:
    try:
        return (
            visible_deals(actor)
            .select_related("company__curator", "stage", "pipeline", "owner", "co_owner")
            .get(pk=int(deal_id))
        )
    except (Deal.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def visible_activities(actor: Any) -> QuerySet[Activity]:
    """Openness (R3): every member reads every timeline."""
    if can(actor, "activities.view_activity"):
        return Activity.objects.all()
    return Activity.objects.none()


def access_activity_by_id(actor: Any, activity_id: Any) -> Activity:
    try:
        return visible_activities(actor).select_related("company", "deal", "author").get(pk=int(activity_id))
    except (Activity.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def visible_tasks(actor: Any) -> QuerySet[Task]:
    """Openness (R3): the department sees what is planned with each client; "My day" narrows to the actor."""
    if can(actor, "activities.view_task"):
        return Task.objects.all()
    return Task.objects.none()


def access_task_by_id(actor: Any, task_id: Any) -> Task:
    try:
        return visible_tasks(actor).select_related("company", "deal", "assignee").get(pk=int(task_id))
    except (Task.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def visible_financial_statements(actor: Any) -> QuerySet[FinancialStatement]:
    """Confidential (R4, D4): the head of sales, finance and the administrator read every client's statements;
    a manager or senior manager only those of the clients they curate; anyone else none. Every list of
    statements (pages, API) starts here, so a figure never leaks through a list."""
    if can(actor, "finance.view_solvency"):  # without an object: the head, finance, the administrator
        return FinancialStatement.objects.all()
    if can(actor, "companies.view_company"):
        return FinancialStatement.objects.filter(
            Q(company__curator_id=actor.pk) | Q(company_id__in=_granted_company_ids(actor))
        )
    return FinancialStatement.objects.none()


def _granted_company_ids(actor: Any) -> QuerySet[Any]:
    """The clients whose whole confidential section a live grant opens to ``actor`` (a subquery)."""
    from kurator.access.confidential import live_grants

    return live_grants(actor).filter(document__isnull=True).values("company_id")


def visible_documents(actor: Any) -> QuerySet[Document]:
    """Confidential (R4, D12): every document for the head of sales, finance and the administrator; for anyone
    else in the department those of the clients they curate and those a live grant opens (the client's section
    or the document itself). Trashed documents are included: the selectors say whether they want them."""
    if can(actor, "documents.view_document"):  # without an object: the head, finance, the administrator
        return Document.objects.all()
    if can(actor, "companies.view_company"):
        from kurator.access.confidential import live_grants

        return Document.objects.filter(
            Q(company__curator_id=actor.pk)
            | Q(company_id__in=_granted_company_ids(actor))
            | Q(pk__in=live_grants(actor).filter(document__isnull=False).values("document_id"))
        )
    return Document.objects.none()


def access_document_by_id(actor: Any, document_id: Any) -> Document:
    """A document the actor may open; 404 otherwise (a guessed id tells nothing). Views that show a lock
    notice instead look the document up among all, then ask ``clearance``."""
    try:
        return visible_documents(actor).select_related("company").get(pk=int(document_id))
    except (Document.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def curator_candidates() -> QuerySet[User]:
    """Users who may curate a client (R2): active members of the sales roles or administrators.

    Kept here, next to the policy, so that forms and filters list curators without looking at roles.
    """
    return User.objects.filter(is_active=True, role__in=CURATOR_ROLES).order_by(
        "last_name", "first_name", "username"
    )


def sellers() -> QuerySet[User]:
    """Users who work clients themselves (managers and senior managers), active or not: the people whose
    overlap on one client R2 forbids. The head of sales and the administrator step in by their office."""
    return User.objects.filter(role__in=(Role.MANAGER, Role.SENIOR_MANAGER))

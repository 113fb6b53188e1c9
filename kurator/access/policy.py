"""The access policy of Kurator, in one place (R3, R4).

Openness (R3): every member of the department reads every dossier. Editing a dossier belongs to its curator,
the head of sales and the administrator; only the head of sales or the administrator changes a curator or the
dictionaries. Finance reads everything and edits nothing in the dossier.

Views and API endpoints name one of the permissions below; nothing else in the code looks at roles.
"""

from __future__ import annotations

from typing import Any

import rules
from django.utils.translation import gettext_lazy as _

from kurator.accounts.models import Role

SALES_ROLES = frozenset({Role.MANAGER, Role.SENIOR_MANAGER, Role.HEAD_OF_SALES})
ALL_ROLES = frozenset(Role)
# Who may be a client's curator (R2): the sales roles, and the administrator (who may stand in for anyone).
CURATOR_ROLES = SALES_ROLES | {Role.ADMIN}

# Marks a view that needs no login (login page, language switch, API token, health check).
PUBLIC = "public"
# Marks a view that needs a login and nothing more (the user's own profile, logout).
AUTHENTICATED = "authenticated"


def has_role(*roles: Role) -> Any:
    allowed = frozenset(roles)

    @rules.predicate(name=f"has_role({','.join(sorted(allowed))})")
    def predicate(user: Any) -> bool:
        return bool(user and user.is_authenticated and user.is_active and user.role in allowed)

    return predicate


is_member = has_role(*ALL_ROLES)
is_seller = has_role(Role.MANAGER, Role.SENIOR_MANAGER)
is_head = has_role(Role.HEAD_OF_SALES, Role.ADMIN)


@rules.predicate
def is_curator(user: Any, company: Any) -> bool:
    return company is not None and company.curator_id == user.pk


@rules.predicate
def is_company_curator(user: Any, record: Any) -> bool:
    """For a record that belongs to a company (a bank account, a person): the company's curator."""
    return record is not None and record.company.curator_id == user.pk


rules.add_perm("accounts.view_user", is_member)

rules.add_perm("companies.view_company", is_member)
rules.add_perm("companies.add_company", is_seller | is_head)
rules.add_perm("companies.change_company", is_head | (is_seller & is_curator))
rules.add_perm("companies.change_curator", is_head)
rules.add_perm("companies.manage_dictionaries", is_head)
# Bank accounts and people are edited by whoever may edit their company; the object is the company.
rules.add_perm("companies.change_company_records", is_head | (is_seller & is_curator))

rules.add_perm("companies.merge_company", is_head)
rules.add_perm("companies.import_clients", is_head)
rules.add_perm("companies.view_reports", is_head)


@rules.predicate
def may_work_inquiry(user: Any, inquiry: Any) -> bool:
    """R2: an inquiry of a curated client is worked by its curator alone; an unassigned one by any seller."""
    if inquiry is None:
        return True
    curator_id = inquiry.curator_id
    if curator_id is None and inquiry.company_id is not None:
        curator_id = inquiry.company.curator_id
    return curator_id is None or curator_id == user.pk


rules.add_perm("inquiries.view_inquiry", is_member)
rules.add_perm("inquiries.add_inquiry", is_seller | is_head)
rules.add_perm("inquiries.work_inquiry", is_head | (is_seller & may_work_inquiry))
rules.add_perm("inquiries.review_match", is_head)
rules.add_perm("inquiries.manage_settings", is_head)


# The sales pipeline (S3, R1) and the contact history (D3). -----------------------------------------------


@rules.predicate
def works_the_deal(user: Any, deal: Any) -> bool:
    """A deal is worked by its owner and co-owner (R2: the owner is the client's curator)."""
    return deal is None or user.pk in (deal.owner_id, deal.co_owner_id)


@rules.predicate
def works_with(user: Any, target: Any) -> bool:
    """Whether ``user`` works with the client of ``target`` (a company, a deal or a record of either): its
    curator, or the owner or co-owner of the deal."""
    if target is None:
        return True
    deal = getattr(target, "deal", None) if not hasattr(target, "owner_id") else target
    if deal is not None and user.pk in (deal.owner_id, deal.co_owner_id):
        return True
    company = target if hasattr(target, "curator_id") else getattr(target, "company", None)
    return company is not None and company.curator_id == user.pk


@rules.predicate
def is_author(user: Any, record: Any) -> bool:
    return record is not None and record.author_id == user.pk


@rules.predicate
def is_task_party(user: Any, task: Any) -> bool:
    return task is None or user.pk in (task.assignee_id, task.created_by_id)


rules.add_perm("sales.view_deal", is_member)
# The object is the company the deal is for: deals are opened by the client's curator or the head of sales.
rules.add_perm("sales.add_deal", is_head | (is_seller & works_with))
rules.add_perm("sales.change_deal", is_head | (is_seller & works_the_deal))
# Moving a deal past an unmet stage standard (R1), with a recorded reason.
rules.add_perm("sales.override_standard", is_head)
rules.add_perm("sales.manage_pipelines", is_head)
rules.add_perm("sales.view_funnel", is_head | is_seller)

rules.add_perm("activities.view_activity", is_member)
# The object is the company or deal the activity is logged on.
rules.add_perm("activities.add_activity", is_head | (is_seller & works_with))
rules.add_perm("activities.change_activity", is_head | (is_seller & is_author))
rules.add_perm("activities.view_task", is_member)
rules.add_perm("activities.add_task", is_seller | is_head)
rules.add_perm("activities.change_task", is_head | (is_member & is_task_party))


# Finance (D4–D8). Contracts, orders, receivables and conflicts are open to the department (R3); the solvency
# section is confidential (R4): the curator, the head of sales, finance and the administrator.
is_finance = has_role(Role.FINANCE)


@rules.predicate
def curates_client(user: Any, target: Any) -> bool:
    """The curator of the client ``target`` is (a company) or belongs to (a record with ``company``)."""
    if target is None:
        return False
    company = target if hasattr(target, "curator_id") else getattr(target, "company", None)
    return company is not None and company.curator_id == user.pk


rules.add_perm("finance.view_contract", is_member)
# The object is the company (to add) or the contract/obligation (to change).
rules.add_perm("finance.change_contract", is_head | (is_seller & works_with))
rules.add_perm("finance.manage_catalogue", is_head)
rules.add_perm("finance.view_order", is_member)
# The curator enters the client's orders (D8); the object is the company or the order.
rules.add_perm("finance.change_order", is_head | (is_seller & works_with))
# Confirming an order that breaks credit control, and refusing it.
rules.add_perm("finance.approve_credit", is_head)
rules.add_perm("finance.set_credit_limit", is_head | is_finance)
rules.add_perm("finance.view_invoice", is_member)
# Invoices and payments are entered by finance and the head of sales; the curator reads them (D6).
rules.add_perm("finance.change_invoice", is_head | is_finance)
rules.add_perm("finance.change_payment", is_head | is_finance)
rules.add_perm("finance.import_bank_statement", is_head | is_finance)
rules.add_perm("finance.view_receivables_report", is_member)
# The collection log is worked by finance, the head of sales and the client's curator.
rules.add_perm("finance.add_collection_action", is_head | is_finance | (is_seller & works_with))


@rules.predicate
def has_grant(user: Any, target: Any) -> bool:
    """A live grant (approved by the head of sales, not revoked, not expired) opens ``target``: a company's
    whole confidential section, or one document (by a grant to it or to its company's section)."""
    from kurator.access.confidential import grant_for  # the models load after the policy

    return grant_for(user, target) is not None


# Confidential (R4): the curator, the head of sales, finance and the administrator by their office; anyone
# else in the department through a grant. The object is the company (or, for documents, the document).
sees_confidential = is_head | is_finance | (is_member & curates_client) | (is_member & has_grant)
rules.add_perm("finance.view_solvency", sees_confidential)
rules.add_perm("finance.change_financial_statement", is_head | is_finance | (is_seller & curates_client))
rules.add_perm("finance.view_conflict", is_member)
rules.add_perm("finance.change_conflict", is_head | is_finance | (is_seller & works_with))

# The dossier's documents and files (D12). Confidential like solvency; the object is the company (to list or
# upload) or the document (to open, download, add a version or move to the trash).
is_admin = has_role(Role.ADMIN)
rules.add_perm("documents.view_document", sees_confidential)
rules.add_perm("documents.add_document", is_head | is_finance | (is_member & curates_client))
rules.add_perm("documents.trash_document", is_head | is_finance | (is_member & curates_client))
rules.add_perm("documents.restore_document", is_head)
rules.add_perm("documents.purge_document", is_admin)

# Restricted access (R4): anyone in the department asks; the head of sales (or the administrator) decides,
# revokes and reads the audit log.
rules.add_perm("access.request_access", is_member)
rules.add_perm("access.decide_request", is_head)
rules.add_perm("access.view_audit_log", is_head)


@rules.predicate
def not_an_administrator(user: Any, target: Any) -> bool:
    """User management: the user acted on (or the user as it would be after the change) is no
    administrator. Only an administrator makes, changes or deactivates an administrator; ``None`` stands for
    the department at large."""
    return target is None or getattr(target, "role", None) != Role.ADMIN


# People who leave: the head of sales or the administrator deactivates them after handing their work over.
# The object is the user acted on (with the role it is to have): the head of sales manages everyone but
# administrators, so nobody raises a colleague (or themselves) above the head of sales.
rules.add_perm("accounts.manage_users", is_admin | (is_head & not_an_administrator))

PERMISSIONS = frozenset(
    {
        "documents.view_document",
        "documents.add_document",
        "documents.trash_document",
        "documents.restore_document",
        "documents.purge_document",
        "access.request_access",
        "access.decide_request",
        "access.view_audit_log",
        "accounts.manage_users",
        "finance.view_contract",
        "finance.change_contract",
        "finance.manage_catalogue",
        "finance.view_order",
        "finance.change_order",
        "finance.approve_credit",
        "finance.set_credit_limit",
        "finance.view_invoice",
        "finance.change_invoice",
        "finance.change_payment",
        "finance.import_bank_statement",
        "finance.view_receivables_report",
        "finance.add_collection_action",
        "finance.view_solvency",
        "finance.change_financial_statement",
        "finance.view_conflict",
        "finance.change_conflict",
        "sales.view_deal",
        "sales.add_deal",
        "sales.change_deal",
        "sales.override_standard",
        "sales.manage_pipelines",
        "sales.view_funnel",
        "activities.view_activity",
        "activities.add_activity",
        "activities.change_activity",
        "activities.view_task",
        "activities.add_task",
        "activities.change_task",
        "companies.merge_company",
        "companies.import_clients",
        "companies.view_reports",
        "inquiries.view_inquiry",
        "inquiries.add_inquiry",
        "inquiries.work_inquiry",
        "inquiries.review_match",
        "inquiries.manage_settings",
        "accounts.view_user",
        "companies.view_company",
        "companies.add_company",
        "companies.change_company",
        "companies.change_curator",
        "companies.manage_dictionaries",
        "companies.change_company_records",
    }
)


# What a refusal says (the 403 page shows it); other permissions get the page's generic words.
_DOSSIER_READ_ONLY = _(
    "You may read this page but not change it: only the curator of the client, the head of sales or the "
    "administrator can."
)
REFUSALS: dict[str, Any] = {
    "companies.change_company": _DOSSIER_READ_ONLY,
    "companies.change_company_records": _DOSSIER_READ_ONLY,
    "sales.change_deal": _(
        "You may read this deal but not change it: only its owner, its co-owner or the head of sales can."
    ),
    "sales.add_deal": _("Deals of a client are opened by its curator or the head of sales."),
    "activities.add_activity": _(
        "Contacts with this client are logged by its curator, the owners of its deals or the head of sales."
    ),
    "activities.change_activity": _("Only the author of an entry or the head of sales may edit it."),
    "finance.change_contract": _(
        "Contracts of a client are kept by its curator, the owners of its deals or the head of sales."
    ),
    "finance.change_order": _("Orders of a client are entered by its curator or the head of sales."),
    "finance.change_invoice": _("Invoices are entered by finance and the head of sales."),
    "finance.change_payment": _("Payments are entered by finance and the head of sales."),
    "finance.view_solvency": _(
        "The solvency section is confidential: only the curator, the head of sales, finance and the "
        "administrator see it, and others the head of sales gives access to."
    ),
    "documents.view_document": _(
        "The client's documents are confidential: only the curator, the head of sales, finance and the "
        "administrator see them, and others the head of sales gives access to."
    ),
    "documents.add_document": _(
        "Documents of a client are uploaded by its curator, finance or the head of sales."
    ),
    "documents.trash_document": _(
        "Documents of a client are moved to the trash by its curator, finance or the head of sales."
    ),
    "documents.restore_document": _("Only the head of sales restores documents from the trash."),
    "documents.purge_document": _("Only the administrator purges documents for good."),
    "access.decide_request": _("Requests for access are decided by the head of sales."),
    "access.view_audit_log": _("The audit log is read by the head of sales and the administrator."),
    "accounts.manage_users": _(
        "Users are managed by the head of sales and the administrator; administrators only by an "
        "administrator."
    ),
}


def may_curate(user: Any) -> bool:
    """Whether ``user`` may be given clients to curate (R2): an active member of CURATOR_ROLES."""
    return bool(user and getattr(user, "is_active", False) and getattr(user, "role", None) in CURATOR_ROLES)


def can(actor: Any, permission: str, obj: Any = None) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return bool(rules.has_perm(permission, actor, obj))

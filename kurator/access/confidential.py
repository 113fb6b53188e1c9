"""Who may open the confidential parts of a client's dossier, and why (R4, D12).

The policy (``policy.py``) answers yes or no; this module also says *which rule or grant* allowed it, because
the audit log records that for every view and download. Both read the same facts: the role, the client's
curator and the live grants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from kurator.access.models import AccessGrant
from kurator.accounts.models import Role

# The rule names the audit log records; a grant is recorded as ``grant:<id>``.
RULE_ADMIN = "admin"
RULE_HEAD = "head_of_sales"
RULE_FINANCE = "finance"
RULE_CURATOR = "curator"
REFUSED_NO_GRANT = "no_grant"
REFUSED_NOT_MEMBER = "not_member"

_OFFICE_RULES = {Role.ADMIN: RULE_ADMIN, Role.HEAD_OF_SALES: RULE_HEAD, Role.FINANCE: RULE_FINANCE}


@dataclass(frozen=True)
class Clearance:
    allowed: bool
    rule: str
    grant: AccessGrant | None = None


def live_grants(user: Any) -> QuerySet[AccessGrant]:
    """The user's grants that work today: not revoked, not past their last day (Moscow time)."""
    user_id = getattr(user, "pk", None)
    if user_id is None:
        return AccessGrant.objects.none()
    return AccessGrant.objects.filter(
        user_id=user_id, revoked_at__isnull=True, expires_on__gte=timezone.localdate()
    )


def _company_and_document(target: Any) -> tuple[Any, Any]:
    """``target`` is a company or a document (anything with ``company`` and a ``section``)."""
    if target is None:
        return None, None
    if hasattr(target, "curator_id"):
        return target, None
    return target.company, target


def grant_for(user: Any, target: Any) -> AccessGrant | None:
    """The live grant that opens ``target`` to ``user``: a grant to the client's whole confidential section,
    or, for a document, a grant to that document. The one lasting longest wins."""
    company, document = _company_and_document(target)
    if company is None or not getattr(user, "is_authenticated", False):
        return None
    scope = Q(document__isnull=True)
    if document is not None:
        scope |= Q(document_id=document.pk)
    return live_grants(user).filter(scope, company_id=company.pk).order_by("-expires_on", "-pk").first()


def clearance(user: Any, target: Any) -> Clearance:
    """Whether ``user`` may open the confidential ``target`` (a company's section or one document), and the
    rule or grant that says so."""
    if not (user and getattr(user, "is_authenticated", False) and user.is_active):
        return Clearance(False, REFUSED_NOT_MEMBER)
    office = _OFFICE_RULES.get(user.role)
    if office:
        return Clearance(True, office)
    company, _document = _company_and_document(target)
    if company is not None and company.curator_id == user.pk:
        return Clearance(True, RULE_CURATOR)
    grant = grant_for(user, target)
    if grant is not None:
        return Clearance(True, f"grant:{grant.pk}", grant)
    return Clearance(False, REFUSED_NO_GRANT)

"""Template helpers the finance pages share with other apps' pages: the open conflicts on the dossier header
(D7) and the contracts card on a deal's page (D5, R1)."""

from __future__ import annotations

from typing import Any

from django import template

from kurator.access.policy import can
from kurator.finance.models import OPEN_CONFLICT_STATUSES, Conflict, ConflictSeverity

register = template.Library()

SEVERITY_CLASSES = {
    "low": "bg-secondary-lt",
    "medium": "bg-yellow-lt",
    "high": "bg-orange-lt",
    "critical": "bg-red",
}
CONTRACT_STATUS_CLASSES = {
    "draft": "bg-secondary-lt",
    "signed": "bg-blue-lt",
    "in_execution": "bg-azure-lt",
    "executed": "bg-green-lt",
    "terminated": "bg-red-lt",
}
CONFLICT_STATUS_CLASSES = {"open": "bg-red-lt", "in_progress": "bg-yellow-lt", "resolved": "bg-green-lt"}


@register.filter
def severity_class(value: str) -> str:
    return SEVERITY_CLASSES.get(str(value), "bg-secondary-lt")


@register.filter
def contract_status_class(value: str) -> str:
    return CONTRACT_STATUS_CLASSES.get(str(value), "bg-secondary-lt")


@register.filter
def conflict_status_class(value: str) -> str:
    return CONFLICT_STATUS_CLASSES.get(str(value), "bg-secondary-lt")


@register.simple_tag
def open_conflicts(company: Any) -> dict[str, Any]:
    """How many conflicts with ``company`` are open or being resolved, and the worst severity among them:
    ``{"count": n, "worst": "high"}`` (one query)."""
    severities = list(
        Conflict.objects.filter(company_id=company.pk, status__in=OPEN_CONFLICT_STATUSES).values_list(
            "severity", flat=True
        )
    )
    order = list(SEVERITY_CLASSES)
    worst = max(severities, key=lambda s: order.index(s) if s in order else 0) if severities else ""
    label = str(ConflictSeverity(worst).label) if worst in ConflictSeverity.values else ""
    return {"count": len(severities), "worst": worst, "worst_label": label}


@register.simple_tag(takes_context=True)
def deal_contracts_card(context: template.Context, deal: Any) -> dict[str, Any]:
    """The contracts tied to ``deal`` and whether the reader may add one (one query, plus the policy's)."""
    from kurator.finance.selectors.contracts import deal_contracts

    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "contracts": deal_contracts(actor=user, deal=deal),
        "may_add": can(user, "finance.change_contract", deal.company),
    }

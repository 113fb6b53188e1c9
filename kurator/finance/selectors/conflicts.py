"""Reads of the conflict register (D7). Every member of the department reads it (R3); each list runs a
constant number of queries whatever its length."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kurator.access.policy import can
from kurator.accounts.models import User
from kurator.companies.models import Contact
from kurator.core.history import HistoryEntry
from kurator.finance.models import OPEN_CONFLICT_STATUSES, Conflict
from kurator.finance.selectors.contracts import record_history

__all__ = ["company_conflicts", "conflict_get", "conflict_history", "conflict_list", "visible_conflicts"]

VIEW = "finance.view_conflict"
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def visible_conflicts(actor: Any) -> QuerySet[Conflict]:
    if can(actor, VIEW):
        return Conflict.objects.all()
    return Conflict.objects.none()


def with_people(qs: QuerySet[Conflict]) -> QuerySet[Conflict]:
    return qs.prefetch_related(
        Prefetch("our_people", queryset=User.objects.order_by("last_name", "first_name")),
        Prefetch("client_people", queryset=Contact.objects.order_by("full_name")),
    )


def conflict_list(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet[Conflict]:
    """Conflicts, newest first. Filters: ``company``, ``status``, ``severity``."""
    filters = filters or {}
    qs = visible_conflicts(actor)
    if filters.get("company"):
        qs = qs.filter(company_id=getattr(filters["company"], "pk", filters["company"]))
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("severity"):
        qs = qs.filter(severity=filters["severity"])
    return qs.order_by("-occurred_on", "-id")


def company_conflicts(*, actor: Any, company: Any) -> list[Conflict]:
    """The dossier tab: open and in-progress conflicts first (the most severe first), then the resolved
    ones, newest first; with their people and links (a fixed number of queries)."""
    open_first = Case(
        When(status__in=OPEN_CONFLICT_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    severity = Case(
        *[When(severity=key, then=Value(rank)) for key, rank in SEVERITY_RANK.items()],
        default=Value(9),
        output_field=IntegerField(),
    )
    qs = (
        conflict_list(actor=actor, filters={"company": company.pk})
        .select_related("deal", "contract", "invoice")
        .order_by(open_first, severity, "-occurred_on", "-id")
    )
    return list(with_people(qs))


def conflict_get(*, actor: Any, conflict_id: Any) -> Conflict:
    try:
        return with_people(
            visible_conflicts(actor).select_related(
                "company__curator", "deal", "contract", "invoice", "author"
            )
        ).get(pk=int(conflict_id))
    except (Conflict.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def conflict_history(*, conflict: Conflict) -> list[HistoryEntry]:
    """Who changed what in the conflict, old → new, the people involved included (D7)."""
    return record_history(
        [
            (
                Conflict,
                Conflict.history.filter(id=conflict.pk).prefetch_related(
                    "historicalconflict_our_people_set__user",
                    "historicalconflict_client_people_set__contact",
                ),
                "conflict",
                _("Conflict"),
            )
        ],
        skipped=frozenset({"author"}),
        m2m={
            "our_people": ("historicalconflict_our_people_set", "user", _("our people involved")),
            "client_people": (
                "historicalconflict_client_people_set",
                "contact",
                _("the client's people involved"),
            ),
        },
    )

"""Reads of restricted access (R4, D12): requests, grants and the audit log.

The head of sales and the administrator (``access.decide_request``) read every request and grant; anyone else
only their own. The audit log is theirs alone (``access.view_audit_log``). Lists say their own
``select_related``, so a page costs the same number of queries whatever its length; the audit log's filters
each meet an index: (at), (user, at), (company, at), (action, at).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kurator.access.models import AccessGrant, AccessRequest, AccessRequestStatus, AuditEvent
from kurator.access.policy import can
from kurator.access.scoping import visible_documents
from kurator.accounts.models import Role, User
from kurator.companies.models import Company
from kurator.documents.models import Document

__all__ = [
    "GRANT_STATES",
    "AuditFilters",
    "access_grant_get",
    "access_grant_list",
    "access_request_get",
    "access_request_list",
    "audit_event_list",
    "decided_requests",
    "document_names_shown",
    "filter_audit_events",
    "grant_state_filter",
    "grantable_users",
    "pending_request_count",
    "pending_request_for",
    "pending_requests",
]

DECIDE = "access.decide_request"
AUDIT = "access.view_audit_log"

GRANT_STATES = ("live", "expired", "revoked")


# Requests -------------------------------------------------------------------------------------------------


def access_request_list(
    *, actor: Any, status: str | None = None, mine: bool = False
) -> QuerySet[AccessRequest]:
    """Requests newest first: every one for the head of sales and the administrator (unless ``mine``), the
    actor's own for anyone else."""
    qs = AccessRequest.objects.select_related("requester", "company", "document", "decided_by", "grant")
    if mine or not can(actor, DECIDE):
        qs = qs.filter(requester_id=getattr(actor, "pk", None))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def access_request_get(*, actor: Any, request_id: Any) -> AccessRequest:
    """One request the actor may read; 404 otherwise (another person's request tells nothing)."""
    try:
        return access_request_list(actor=actor).get(pk=int(request_id))
    except (AccessRequest.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def pending_requests(*, actor: Any) -> QuerySet[AccessRequest]:
    """Requests waiting for the head of sales, oldest first (whoever waits longest is answered first)."""
    if not can(actor, DECIDE):
        return AccessRequest.objects.none()
    return access_request_list(actor=actor, status=AccessRequestStatus.PENDING).order_by("created_at", "id")


def decided_requests(*, actor: Any) -> QuerySet[AccessRequest]:
    """Decided and withdrawn requests, the latest decision first."""
    if not can(actor, DECIDE):
        return AccessRequest.objects.none()
    return (
        access_request_list(actor=actor)
        .exclude(status=AccessRequestStatus.PENDING)
        .order_by("-decided_at", "-id")
    )


def pending_request_count(*, actor: Any) -> int:
    """The navbar badge of the head of sales: one COUNT over the (status, created_at) index; 0 for others
    (and no query)."""
    if not can(actor, DECIDE):
        return 0
    return AccessRequest.objects.filter(status=AccessRequestStatus.PENDING).count()


def pending_request_for(
    *, actor: Any, company: Company, document: Document | None = None
) -> AccessRequest | None:
    """The actor's own request for exactly this (the client's section, or one document) still waiting."""
    qs = AccessRequest.objects.filter(
        requester_id=getattr(actor, "pk", None), company_id=company.pk, status=AccessRequestStatus.PENDING
    )
    qs = qs.filter(document__isnull=True) if document is None else qs.filter(document_id=document.pk)
    return qs.order_by("-created_at").first()


def document_names_shown(*, actor: Any, document_ids: list[int]) -> set[int]:
    """Of ``document_ids``, those whose names the actor may read (one query): a document's name is
    confidential, so a request for a document the actor cannot open reads «a document of <client>»."""
    ids = [i for i in document_ids if i is not None]
    if not ids:
        return set()
    return set(visible_documents(actor).filter(pk__in=ids).values_list("pk", flat=True))


# Grants ---------------------------------------------------------------------------------------------------


def grant_state_filter(
    qs: QuerySet[AccessGrant], state: str | None, today: date | None = None
) -> QuerySet[AccessGrant]:
    """``live`` (works today), ``expired`` (past its last day) or ``revoked``; anything else: all."""
    today = today or timezone.localdate()
    if state == "live":
        return qs.filter(revoked_at__isnull=True, expires_on__gte=today)
    if state == "expired":
        return qs.filter(revoked_at__isnull=True, expires_on__lt=today)
    if state == "revoked":
        return qs.filter(revoked_at__isnull=False)
    return qs


def access_grant_list(
    *,
    actor: Any,
    state: str | None = None,
    user: Any = None,
    company: Any = None,
    grant_id: Any = None,
    mine: bool = False,
) -> QuerySet[AccessGrant]:
    """Grants newest first: all for the head of sales and the administrator (unless ``mine``), the actor's
    own for anyone else; ``state`` is ``live`` (works today), ``expired`` or ``revoked``."""
    qs = AccessGrant.objects.select_related(
        "user", "company", "document", "granted_by", "revoked_by", "request"
    )
    if mine or not can(actor, DECIDE):
        qs = qs.filter(user_id=getattr(actor, "pk", 0) or 0)
    qs = grant_state_filter(qs, state)
    if user:
        qs = qs.filter(user_id=user)
    if company:
        qs = qs.filter(company_id=company)
    if grant_id:
        qs = qs.filter(pk=grant_id)
    return qs.order_by("-created_at", "-id")


def grantable_users() -> QuerySet[User]:
    """Whom the head of sales may give access to: the active managers and senior managers (the head of sales,
    finance and the administrator see every client's confidential section by their office)."""
    return User.objects.filter(is_active=True, role__in=(Role.MANAGER, Role.SENIOR_MANAGER)).order_by(
        "last_name", "first_name", "username"
    )


def access_grant_get(*, actor: Any, grant_id: Any) -> AccessGrant:
    try:
        return access_grant_list(actor=actor).get(pk=int(grant_id))
    except (AccessGrant.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


# The audit log --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """The audit log's filters (the page, the export and the API share them); empty means any."""

    user: int | None = None
    action: str = ""
    company: int | None = None
    allowed: bool | None = None
    object_type: str = ""
    date_from: date | None = None
    date_to: date | None = None
    ip: str = ""

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> AuditFilters:
        """From a form's or a filter serializer's cleaned data (unknown keys are ignored)."""
        user = data.get("user")
        company = data.get("company")
        return cls(
            user=getattr(user, "pk", user) or None,
            action=data.get("action") or "",
            company=getattr(company, "pk", company) or None,
            allowed=data.get("allowed"),
            object_type=data.get("object_type") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            ip=str(data.get("ip") or ""),
        )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filter_audit_events(qs: QuerySet[AuditEvent], filters: AuditFilters) -> QuerySet[AuditEvent]:
    """``qs`` narrowed by ``filters``. Dates are days in Moscow time, both ends included."""
    f = filters
    conditions = Q()
    if f.user:
        conditions &= Q(user_id=f.user)
    if f.action:
        conditions &= Q(action=f.action)
    if f.company:
        conditions &= Q(company_id=f.company)
    if f.allowed is not None:
        conditions &= Q(allowed=f.allowed)
    if f.object_type:
        conditions &= Q(object_type=f.object_type)
    if f.date_from:
        conditions &= Q(at__gte=_day_start(f.date_from))
    if f.date_to:
        conditions &= Q(at__lt=_day_start(f.date_to + timedelta(days=1)))
    if f.ip:
        conditions &= Q(ip=f.ip)
    return qs.filter(conditions) if conditions else qs


def audit_event_list(*, actor: Any, filters: AuditFilters | None = None) -> QuerySet[AuditEvent]:
    """The audit log, newest first, for the head of sales and the administrator (nothing for anyone else)."""
    if not can(actor, AUDIT):
        return AuditEvent.objects.none()
    qs = filter_audit_events(AuditEvent.objects.all(), filters or AuditFilters())
    return qs.select_related("user", "company").order_by("-at", "-id")

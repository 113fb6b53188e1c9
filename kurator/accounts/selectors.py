"""Reads of the department's users, and of the work a user holds (what a handover moves when they leave)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from kurator.access.models import AccessGrant, AccessRequest, AccessRequestStatus
from kurator.access.policy import can
from kurator.accounts.models import User
from kurator.activities.models import Task
from kurator.companies.models import Company
from kurator.companies.selectors import OPEN_INQUIRY_STATUSES
from kurator.inquiries.models import DistributionRule, Inquiry
from kurator.sales.models import Deal, StageKind


def user_list(*, actor: Any, include_inactive: bool = False) -> QuerySet[User]:
    """Colleagues an actor may see: the whole department for its members (R3), nobody for outsiders."""
    if not can(actor, "accounts.view_user"):
        return User.objects.none()
    qs = User.objects.all()
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("last_name", "first_name", "username", "id")


def user_get(*, actor: Any, user_id: Any) -> User:
    # Former employees stay readable by id: history entries and old records still point at them.
    try:
        return user_list(actor=actor, include_inactive=True).get(pk=int(user_id))
    except (User.DoesNotExist, TypeError, ValueError, OverflowError):
        raise Http404 from None


# Workload: what a user holds (R2 one curator per client; D12 nothing is lost when someone leaves) ----------


def _count(qs: QuerySet[Any]) -> Subquery:
    """A correlated ``SELECT COUNT(*)`` of ``qs`` (filtered on ``OuterRef("pk")``) as an integer column: one
    sub-select per count keeps a list at one query, and the counts do not multiply each other as joins
    would. ``Func`` rather than ``Count`` so that Django adds no GROUP BY: the count of no rows is 0."""
    return Subquery(
        qs.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n"), output_field=IntegerField()
    )


def clients_of(user: Any) -> QuerySet[Company]:
    """The clients ``user`` curates (a merged duplicate is no client any more and keeps its old curator)."""
    return Company.objects.filter(curator=user, merged_into__isnull=True)


def open_deals_of(user: Any) -> QuerySet[Deal]:
    """Open deals ``user`` owns or co-owns."""
    return Deal.objects.filter(Q(owner=user) | Q(co_owner=user), stage__kind=StageKind.OPEN)


def open_tasks_of(user: Any) -> QuerySet[Task]:
    return Task.objects.filter(assignee=user, done=False)


def open_inquiries_of(user: Any) -> QuerySet[Inquiry]:
    """Inquiries still being worked (new, taken, qualified) with ``user`` as their curator."""
    return Inquiry.objects.filter(curator=user, status__in=OPEN_INQUIRY_STATUSES)


def pending_access_requests_of(user: Any) -> QuerySet[AccessRequest]:
    return AccessRequest.objects.filter(requester=user, status=AccessRequestStatus.PENDING)


def live_access_grants_of(user: Any) -> QuerySet[AccessGrant]:
    """Grants not revoked and not expired (the last day counts, Moscow time)."""

    return AccessGrant.objects.filter(
        user=user, revoked_at__isnull=True, expires_on__gte=timezone.localdate()
    )


@dataclass(frozen=True)
class Workload:
    """What ``user`` holds. ``clients``, ``deals``, ``tasks`` and ``inquiries`` must go to a successor before
    the user is deactivated (R2: each client keeps one active curator); pending requests are withdrawn and
    live grants revoked at deactivation (R4)."""

    user: User
    clients: list[Any] = field(default_factory=list)
    deals: list[Any] = field(default_factory=list)
    tasks: list[Any] = field(default_factory=list)
    inquiries: list[Any] = field(default_factory=list)
    access_requests: list[Any] = field(default_factory=list)
    grants: list[Any] = field(default_factory=list)
    distribution_rules: list[Any] = field(default_factory=list)

    @property
    def owned_deals(self) -> list[Any]:
        return [d for d in self.deals if d.owner_id == self.user.pk]

    @property
    def co_owned_deals(self) -> list[Any]:
        return [d for d in self.deals if d.owner_id != self.user.pk]

    @property
    def remaining(self) -> dict[str, int]:
        """What blocks deactivation without a successor: kind -> count, only the kinds that are not empty."""
        counts = {
            "clients": len(self.clients),
            "deals": len(self.deals),
            "tasks": len(self.tasks),
            "inquiries": len(self.inquiries),
        }
        return {kind: n for kind, n in counts.items() if n}

    @property
    def is_empty(self) -> bool:
        return not self.remaining


def user_workload(user: User) -> Workload:
    """Everything ``user`` holds, read in a constant number of queries (one per kind, with what the lists
    show). For the user-management pages (``accounts.manage_users``) and the handover service."""

    return Workload(
        user=user,
        clients=list(clients_of(user).order_by("short_name", "pk")),
        deals=list(
            open_deals_of(user)
            .select_related("company", "stage", "owner", "co_owner")
            .order_by("company__short_name", "pk")
        ),
        tasks=list(open_tasks_of(user).select_related("company", "deal").order_by("due_at", "pk")),
        inquiries=list(open_inquiries_of(user).select_related("company").order_by("-received_at", "-pk")),
        access_requests=list(
            pending_access_requests_of(user).select_related("company", "document").order_by("-created_at")
        ),
        grants=list(
            live_access_grants_of(user).select_related("company", "document").order_by("expires_on", "pk")
        ),
        distribution_rules=list(
            DistributionRule.objects.filter(members=user, is_active=True).order_by("position", "pk")
        ),
    )


def user_list_with_workload(*, actor: Any, include_inactive: bool = True) -> QuerySet[User]:
    """The department for the «Users» page: each person with the number of clients they curate, the open
    deals they own or co-own and their open tasks — one query whatever the number of people."""
    from kurator.companies.models import Company

    if not can(actor, "accounts.manage_users"):
        return User.objects.none()
    people = OuterRef("pk")
    return user_list(actor=actor, include_inactive=include_inactive).annotate(
        client_count=_count(Company.objects.filter(curator=people, merged_into__isnull=True)),
        deal_count=_count(
            Deal.objects.filter(Q(owner=people) | Q(co_owner=people), stage__kind=StageKind.OPEN)
        ),
        task_count=_count(Task.objects.filter(assignee=people, done=False)),
    )

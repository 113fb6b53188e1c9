"""Who curates a new client (R2): the head of sales' distribution rules, round-robin within a rule's team.

Rules are tried in their order (``position``, then id); the first active rule that fits the client and has
someone able to curate in its team wins:

- region / city: the client's city is one of the rule's cities (``value``, several separated by commas or
  semicolons; compared folded, so «москва» is «Москва»);
- industry: the client's application sphere is the rule's;
- sales technology: the client's sales technology is the rule's;
- round-robin: every client.

Within the team the member who got a new client by this rule longest ago (never counts as longest) gets the
next one, and the choice is remembered in :class:`~kurator.inquiries.models.Assignment`. When no rule fits,
all active curator candidates take turns the same way. Every decision comes with a translated sentence that
says why, kept on the inquiry (``routing_explanation``).

Callers run inside a transaction: the rule's row (or, for the fallback, an advisory lock on PostgreSQL) is
locked so that two clients arriving at once do not both go to the same "longest ago" member.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kurator.access.policy import may_curate
from kurator.access.scoping import curator_candidates
from kurator.accounts.models import User
from kurator.core.text import fold
from kurator.inquiries.models import Assignment, DistributionRule, RuleKind

__all__ = ["RoutingDecision", "advisory_lock", "choose_curator", "rule_matches"]

_VALUES_SPLIT_RE = re.compile(r"[,;\n]+")
# Namespace of Kurator's advisory locks (the first key of pg_advisory_xact_lock(int, int)).
LOCK_NAMESPACE = 0x4B52  # "KR"


@dataclass(frozen=True)
class RoutingDecision:
    curator: User
    rule: DistributionRule | None
    explanation: str


def advisory_lock(key: str) -> None:
    """Serialise transactions that work on the same ``key`` (an INN, a name) until the transaction ends.

    PostgreSQL: ``pg_advisory_xact_lock``. SQLite needs nothing: Kurator opens its transactions with
    BEGIN IMMEDIATE (settings), so writers already run one at a time."""
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("advisory_lock() needs a transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_NAMESPACE, key])


def _rule_values(rule: DistributionRule) -> list[str]:
    return [fold(v) for v in _VALUES_SPLIT_RE.split(rule.value or "") if v.strip()]


def rule_matches(
    rule: DistributionRule, *, city: str = "", sphere_id: int | None = None, technology_id: int | None = None
) -> bool:
    """Whether ``rule`` covers a client of ``city``, application sphere and sales technology."""
    if not rule.is_active:
        return False
    if rule.kind == RuleKind.CITY:
        return bool(city) and fold(city) in _rule_values(rule)
    if rule.kind == RuleKind.SPHERE:
        return sphere_id is not None and rule.sphere_id == sphere_id
    if rule.kind == RuleKind.TECHNOLOGY:
        return technology_id is not None and rule.sales_technology_id == technology_id
    return rule.kind == RuleKind.ROUND_ROBIN


def _pick(rule: DistributionRule | None, members: list[User], now: datetime) -> User:
    """The member who got a client by ``rule`` longest ago (never = longest ago; then by name), remembered."""
    last = dict(Assignment.objects.filter(rule=rule, user__in=members).values_list("user_id", "assigned_at"))
    never = datetime.min.replace(tzinfo=now.tzinfo)
    chosen = min(members, key=lambda u: (last.get(u.pk, never), u.last_name, u.first_name, u.pk))
    # A unique constraint covers (rule, user) only when rule is set: NULLs are distinct in SQL.
    updated = Assignment.objects.filter(rule=rule, user=chosen).update(assigned_at=now)
    if not updated:
        Assignment.objects.create(rule=rule, user=chosen, assigned_at=now)
    return chosen


def _kind_value(rule: DistributionRule) -> str:
    if rule.kind == RuleKind.CITY:
        return rule.value
    if rule.kind == RuleKind.SPHERE:
        return str(rule.sphere or "")
    if rule.kind == RuleKind.TECHNOLOGY:
        return str(rule.sales_technology or "")
    return ""


@transaction.atomic
def choose_curator(
    *,
    city: str = "",
    sphere_id: int | None = None,
    technology_id: int | None = None,
    now: datetime | None = None,
) -> RoutingDecision | None:
    """The curator of a new client by the distribution rules, with the reason. None when nobody in the
    department may curate (no active sales employee at all)."""
    now = now or timezone.now()
    rules = list(
        DistributionRule.objects.filter(is_active=True)
        .select_related("sphere", "sales_technology")
        .prefetch_related("members")
        .order_by("position", "id")
    )
    skipped: list[str] = []
    for rule in rules:
        if not rule_matches(rule, city=city, sphere_id=sphere_id, technology_id=technology_id):
            continue
        # Locked so that simultaneous clients of one rule go to different members.
        DistributionRule.objects.select_for_update().filter(pk=rule.pk).first()
        members = [m for m in rule.members.all() if may_curate(m)]
        if not members:
            skipped.append(rule.name)
            continue
        curator = _pick(rule, members, now)
        params: dict[str, Any] = {
            "rule": rule.name,
            "kind": rule.get_kind_display(),
            "curator": curator.full_name,
            "count": len(members),
        }
        if rule.kind == RuleKind.ROUND_ROBIN:
            text = _(
                "Distribution rule “%(rule)s” (%(kind)s): %(curator)s is next in turn among the %(count)s "
                "members of the team (the one who got a new client longest ago)."
            )
        else:
            params["value"] = _kind_value(rule)
            text = _(
                "Distribution rule “%(rule)s” (%(kind)s: %(value)s): %(curator)s is next in turn among the "
                "%(count)s members of the team (the one who got a new client longest ago)."
            )
        return RoutingDecision(curator, rule, _note_skipped(text % params, skipped))

    candidates = list(curator_candidates())
    if not candidates:
        return None
    advisory_lock("routing:fallback")
    curator = _pick(None, candidates, now)
    text = _(
        "No distribution rule fits this client: %(curator)s is next in turn among all %(count)s curators "
        "(the one who got a new client longest ago)."
    ) % {"curator": curator.full_name, "count": len(candidates)}
    return RoutingDecision(curator, None, _note_skipped(text, skipped))


def _note_skipped(text: str, skipped: list[str]) -> str:
    if not skipped:
        return text
    note = _("Rules skipped because nobody in their team may curate: %(rules)s.") % {
        "rules": ", ".join(f"“{name}”" for name in skipped)
    }
    return f"{text} {note}"

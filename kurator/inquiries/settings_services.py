"""Writes of the inquiry settings the head of sales keeps (R1, R2): response standards per channel,
distribution rules and the list of public mail domains. Each checks ``inquiries.manage_settings``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kurator.access.decorators import ensure
from kurator.access.policy import may_curate
from kurator.accounts.models import User
from kurator.companies.models import ApplicationSphere, SalesTechnology
from kurator.inquiries import matching
from kurator.inquiries.models import Channel, DistributionRule, PublicMailDomain, ResponseStandard, RuleKind

SETTINGS = "inquiries.manage_settings"
# Longer than any sensible standard (60 days), so a typo of extra zeros is caught.
MAX_STANDARD_MINUTES = 60 * 24 * 60


@transaction.atomic
def response_standards_save(*, actor: User, minutes: dict[str, int]) -> list[ResponseStandard]:
    """Set the time within which a new inquiry of each given channel must be taken (R1)."""
    ensure(actor, SETTINGS)
    errors: dict[str, list[ValidationError]] = {}
    for channel, value in minutes.items():
        if channel not in Channel.values:
            errors.setdefault(channel, []).append(ValidationError(_("Unknown channel."), code="invalid"))
        elif not isinstance(value, int) or not 0 < value <= MAX_STANDARD_MINUTES:
            errors.setdefault(channel, []).append(
                ValidationError(_("Enter a time between 1 minute and 60 days."), code="out_of_range")
            )
    if errors:
        raise ValidationError(errors)
    saved = []
    for channel, value in minutes.items():
        standard, _created = ResponseStandard.objects.update_or_create(
            channel=channel, defaults={"minutes": value}
        )
        saved.append(standard)
    return saved


def _rule_errors(
    *,
    name: str,
    kind: str,
    value: str,
    sphere: ApplicationSphere | None,
    sales_technology: SalesTechnology | None,
    members: list[User],
) -> dict[str, list[ValidationError]]:
    errors: dict[str, list[ValidationError]] = {}

    def add(field: str, message: Any, code: str) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    if not name:
        add("name", _("Enter a name."), "required")
    if kind not in RuleKind.values:
        add("kind", _("Choose a kind of rule."), "invalid")
    if kind == RuleKind.CITY and not value:
        add("value", _("A region rule needs a city."), "required")
    if kind == RuleKind.SPHERE and sphere is None:
        add("sphere", _("An industry rule needs an application sphere."), "required")
    if kind == RuleKind.TECHNOLOGY and sales_technology is None:
        add("sales_technology", _("A sales technology rule needs a sales technology."), "required")
    if not members:
        add("members", _("Choose at least one member of the team."), "required")
    for member in members:
        if not may_curate(member):
            add(
                "members",
                _("%(name)s cannot curate clients.") % {"name": member.full_name},
                "not_a_curator",
            )
    return errors


@transaction.atomic
def distribution_rule_save(
    *,
    actor: User,
    rule: DistributionRule | None = None,
    name: str,
    kind: str,
    value: str = "",
    sphere: ApplicationSphere | None = None,
    sales_technology: SalesTechnology | None = None,
    members: Iterable[User] = (),
    position: int = 0,
    is_active: bool = True,
) -> DistributionRule:
    """Create or change a distribution rule (R2). Only the fields its kind uses are kept, so a rule never
    carries a stale city or sphere that its kind ignores."""
    ensure(actor, SETTINGS)
    name = " ".join(str(name or "").split())
    value = " ".join(str(value or "").split())
    team = list(members)
    errors = _rule_errors(
        name=name, kind=kind, value=value, sphere=sphere, sales_technology=sales_technology, members=team
    )
    if errors:
        raise ValidationError(errors)
    if rule is not None:
        rule = DistributionRule.objects.select_for_update().get(pk=rule.pk)
    else:
        rule = DistributionRule()
    rule.name, rule.kind, rule.position, rule.is_active = name, kind, max(0, int(position or 0)), is_active
    rule.value = value if kind == RuleKind.CITY else ""
    rule.sphere = sphere if kind == RuleKind.SPHERE else None
    rule.sales_technology = sales_technology if kind == RuleKind.TECHNOLOGY else None
    rule.save()
    rule.members.set(team)
    return rule


@transaction.atomic
def distribution_rule_delete(*, actor: User, rule: DistributionRule) -> None:
    """Remove a rule; the round-robin memory of it goes with it. Companies keep their curators."""
    ensure(actor, SETTINGS)
    DistributionRule.objects.filter(pk=rule.pk).delete()


def _clean_domain(domain: str) -> str:
    text = str(domain or "").strip().lstrip("@")
    return matching.email_domain(f"x@{text}") if text else ""


@transaction.atomic
def public_mail_domain_add(*, actor: User, domain: str) -> PublicMailDomain:
    """Add a public mail service: its addresses are never a reason to match a company (R2)."""
    ensure(actor, SETTINGS)
    cleaned = _clean_domain(domain)
    if not cleaned:
        raise ValidationError(
            {"domain": [ValidationError(_("Enter a domain such as mail.example."), code="invalid")]}
        )
    if PublicMailDomain.objects.filter(domain=cleaned).exists():
        raise ValidationError(
            {
                "domain": [
                    ValidationError(
                        _("%(domain)s is already in the list.") % {"domain": cleaned}, code="duplicate"
                    )
                ]
            }
        )
    return PublicMailDomain.objects.create(domain=cleaned)


@transaction.atomic
def public_mail_domain_remove(*, actor: User, domain: PublicMailDomain) -> None:
    """Remove a domain from the list: addresses on it count as a company's own again."""
    ensure(actor, SETTINGS)
    PublicMailDomain.objects.filter(pk=domain.pk).delete()

"""Display helpers of the dossier pages: badges, phones, completeness colours, birthdays."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from kurator.companies.models import CompanyStatus, DecisionRole
from kurator.core.requisites import format_phone

register = template.Library()

_STATUS_CLASSES = {
    CompanyStatus.PROSPECT: "bg-azure-lt",
    CompanyStatus.CLIENT: "bg-green-lt",
    CompanyStatus.FORMER: "bg-secondary-lt",
}
_ROLE_CLASSES = {
    DecisionRole.DECISION_MAKER: "bg-red-lt",
    DecisionRole.INFLUENCER: "bg-orange-lt",
    DecisionRole.USER: "bg-blue-lt",
    DecisionRole.GATEKEEPER: "bg-purple-lt",
    DecisionRole.OTHER: "bg-secondary-lt",
}


@register.filter
def status_class(status: str) -> str:
    return _STATUS_CLASSES.get(status, "bg-secondary-lt")  # type: ignore[call-overload]


@register.filter
def role_class(role: str) -> str:
    return _ROLE_CLASSES.get(role, "bg-secondary-lt")  # type: ignore[call-overload]


@register.filter
def phone(value: str) -> str:
    return format_phone(value)


@register.filter
def tel(value: str) -> str:
    """A ``tel:`` link target; the RFC 3966 extension form is already what dialers understand."""
    return f"tel:{value}"


@register.filter
def completeness_class(value: int) -> str:
    if value < 40:
        return "bg-red"
    if value < 70:
        return "bg-yellow"
    return "bg-green"


@register.filter
def days_to_birthday(born: date | None) -> int | None:
    """Days until the next birthday (0 = today); 29 February counts as 1 March in other years."""
    if born is None:
        return None
    today = timezone.localdate()
    for year in (today.year, today.year + 1):
        try:
            next_day = born.replace(year=year)
        except ValueError:
            next_day = date(year, 3, 1)
        if next_day >= today:
            return (next_day - today).days
    return None


@register.filter
def updated_ago(moment: datetime | None) -> str:
    """ "Updated: 3 days ago" with one unit only; "Updated: just now" in the first minute. Written as a label
    and its value, so it reads right next to any section title (Russian agrees a verb with its subject)."""
    if moment is None:
        return _("Not updated yet")
    if timezone.now() - moment < timedelta(minutes=1):
        return _("Updated: just now")
    return _("Updated: %(ago)s ago") % {"ago": timesince(moment, depth=1)}

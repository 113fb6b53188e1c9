"""Template helpers of the sales pages (S3): roubles written the Russian way, days in a stage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

from kurator.ui.templatetags.ui import _sprite_url, rub

register = template.Library()

# Money is written the same way on every page; sales templates load it from here as before.
register.filter("rub", rub)


@register.filter
def days_since(moment: datetime | None) -> int | None:
    """Whole days from ``moment`` to now (0 on the same day)."""
    if moment is None:
        return None
    return max((timezone.now() - moment).days, 0)


def _icon(name: str) -> str:
    # The board draws hundreds of icons: the short form (presentation attributes in sales.css) keeps its HTML
    # small. Names are literals below, all in kurator/ui/vendor.py ICONS.
    return f'<svg class="icon" aria-hidden="true"><use href="{_sprite_url()}#tabler-{name}"></use></svg>'


@register.simple_tag
def deal_card(deal: Any, stage: Any, here: str) -> str:
    """A card of the deal board (S3): title, client, amount, owner, days in the stage (marked when longer
    than the stage allows) and, for a deal the reader may move, a "Move to…" link to the move page (the
    keyboard and no-JS way; the board's script drags). Built in Python: the board shows up to 180 cards, and
    the template engine spent most of the page's time on them.

    The view sets ``deal.can_move``, ``deal.detail_url`` and ``deal.move_url``."""
    days = days_since(deal.stage_entered_at) or 0
    days_text = ngettext("%(n)s day in the stage", "%(n)s days in the stage", days) % {"n": days}
    if stage.max_days and days > stage.max_days and stage.kind == "open":
        longer = gettext("Longer than the stage allows (%(max)s days)") % {"max": stage.max_days}
        stay = format_html(
            '<span class="badge bg-red-lt" data-testid="overdue" title="{}">{}{}</span>',
            longer,
            mark_safe(_icon("clock-exclamation")),  # noqa: S308 - built from literals and the static URL
            days_text,
        )
    else:
        stay = format_html(
            '<span class="text-secondary">{}{}</span>',
            mark_safe(_icon("clock")),  # noqa: S308 - built from literals and the static URL
            days_text,
        )
    movable = bool(getattr(deal, "can_move", False))
    handle = move = move_attr = ""
    if movable:
        handle = format_html(
            '<span class="kurator-drag-handle text-secondary" aria-hidden="true" title="{}">{}</span>',
            gettext("Drag to move"),
            mark_safe(_icon("arrows-move")),  # noqa: S308 - built from literals and the static URL
        )
        move_attr = format_html(' data-move-url="{}"', deal.move_url)
        move = format_html(
            '<a class="btn btn-sm btn-outline-primary mt-2 kurator-move-link" href="{}?next={}" '
            'data-testid="move-{}" aria-label="{}">{}</a>',
            deal.move_url,
            here,
            deal.pk,
            gettext("Move “%(title)s” to…") % {"title": deal.title},
            gettext("Move to…"),
        )
    return format_html(
        '<article class="card card-sm mb-2 kurator-deal-card{}" data-testid="deal-{}" data-deal-id="{}" '
        'data-version="{}"{}><div class="card-body p-2"><div class="d-flex align-items-start gap-1">{}'
        '<a class="fw-medium text-reset" href="{}">{}</a></div>'
        '<div class="small text-secondary text-truncate">{}</div>'
        '<div class="d-flex flex-wrap align-items-center gap-2 small mt-1"><span class="fw-medium">{}</span>'
        '<span class="text-secondary">{}{}</span></div><div class="small mt-1">{}</div>{}</div></article>',
        " is-movable" if movable else "",
        deal.pk,
        deal.pk,
        deal.version,
        move_attr,
        handle,
        deal.detail_url,
        deal.title,
        deal.company.short_name,
        rub(deal.amount),
        mark_safe(_icon("user")),  # noqa: S308 - built from literals and the static URL
        deal.owner.short_name,
        stay,
        move,
    )

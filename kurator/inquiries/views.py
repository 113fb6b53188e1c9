"""HTML pages of inquiries (R1, R2, S2): the list with late flags, the entry form, the detail with the match
and its reasons, the actions (take, qualify, reject, confirm a match), the head of sales' review queue, the
response report and the settings (response standards, distribution rules, public mail domains, embed code).

Every view names its permission with ``@require``; working an inquiry is checked on the object with
``ensure(actor, "inquiries.work_inquiry", inquiry)``. Reads go through kurator.inquiries.selectors, writes
through kurator.inquiries.services (and settings_services for the settings pages).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kurator.access.decorators import ensure, require
from kurator.access.policy import can
from kurator.access.scoping import curator_candidates
from kurator.accounts.models import User
from kurator.core.forms import apply_service_errors
from kurator.core.pagination import FewRowsPaginator
from kurator.inquiries import selectors, services, settings_services
from kurator.inquiries.forms import (
    ConfirmMatchForm,
    DistributionRuleForm,
    InquiryFilterForm,
    InquiryForm,
    PublicMailDomainForm,
    RejectForm,
    ResponseStandardsForm,
    source_list,
)
from kurator.inquiries.models import (
    Channel,
    DistributionRule,
    Inquiry,
    InquiryStatus,
    MatchConfidence,
    PublicMailDomain,
    ResponseStandard,
    RuleKind,
)
from kurator.inquiries.templatetags.inquiries_ui import minutes_human

PER_PAGE = 25
PER_PAGE_CHOICES = (25, 50, 100)
VIEW = "inquiries.view_inquiry"
WORK = "inquiries.work_inquiry"
REVIEW = "inquiries.review_match"
SETTINGS = "inquiries.manage_settings"


def _actor(request: HttpRequest) -> User:
    # Every view below is behind @require, so the user is a signed-in member.
    return cast(User, request.user)


def _page_context(page: Any) -> dict[str, Any]:
    return {
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
    }


# The list -------------------------------------------------------------------------------------------------


@require(VIEW)
def inquiry_list(request: HttpRequest) -> HttpResponse:
    """Inquiries with filters and late flags (R1, R2). A seller starts on their own and the unassigned
    ones; the head of sales on all of them."""
    actor = _actor(request)
    sees_all_by_default = can(actor, REVIEW)
    curators = list(curator_candidates())
    form = InquiryFilterForm(request.GET, curators=curators)
    values = form.values()
    scope = values.get("scope") or (form.SCOPE_ALL if sees_all_by_default else form.SCOPE_MINE)
    status = values.get("status") or ""
    per_page = _per_page(request)
    inquiries = selectors.inquiry_list(
        actor=actor,
        mine=scope == form.SCOPE_MINE,
        search=(values.get("q") or "").strip(),
        status=status,
        channel=values.get("channel") or "",
        curator=values.get("curator"),
        late=bool(values.get("late")),
        needs_review=bool(values.get("needs_review")),
    )
    page = FewRowsPaginator(inquiries, per_page).get_page(request.GET.get("page"))
    filtered = any(values.get(name) for name in ("q", "status", "channel", "curator", "late", "needs_review"))
    context = {
        "form": form,
        "scope": scope,
        "per_page": per_page,
        "per_page_choices": PER_PAGE_CHOICES,
        "filtered": filtered,
        "now": timezone.now(),
        **_page_context(page),
    }
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    if not partial and sees_all_by_default:
        context["review_count"] = selectors.inquiry_list(actor=actor, needs_review=True).count()
    template = "inquiries/_inquiry_results.html" if partial else "inquiries/inquiry_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _per_page(request: HttpRequest) -> int:
    try:
        value = int(request.GET.get("per_page", PER_PAGE))
    except ValueError:
        return PER_PAGE
    return value if value in PER_PAGE_CHOICES else PER_PAGE


def _registered_message(inquiry: Inquiry) -> str:
    """Where the new inquiry went, in one sentence; the detail page below explains why."""
    if inquiry.needs_review:
        return _(
            "The inquiry was registered. It may come from a client in the base: it waits for the head "
            "of sales."
        )
    if inquiry.curator is not None:
        return _("The inquiry was registered and given to %(curator)s.") % {
            "curator": inquiry.curator.full_name
        }
    return _("The inquiry was registered; it has no curator yet.")


# Entry form -----------------------------------------------------------------------------------------------


@require("inquiries.add_inquiry")
def inquiry_create(request: HttpRequest) -> HttpResponse:
    """A phone call or an e-mail typed in by a manager; the matcher and the routing decide where it goes."""
    actor = _actor(request)
    sources = source_list()
    form = InquiryForm(request.POST or None, actor=actor, sources=sources)
    if request.method == "POST" and form.is_valid():
        try:
            inquiry = services.inquiry_create(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _registered_message(inquiry))
            return redirect("inquiries:detail", pk=inquiry.pk)
    return render(request, "inquiries/inquiry_form.html", {"form": form})


# Detail and actions ---------------------------------------------------------------------------------------


def candidates_of(inquiry: Inquiry) -> list[dict[str, Any]]:
    """The stored candidates with their confidence's label (reasons are rendered by the template filter)."""
    labels = dict(MatchConfidence.choices)
    return [
        {**c, "confidence_label": labels.get(c.get("confidence", ""), "")}
        for c in (inquiry.match_candidates or [])
        if isinstance(c, dict) and c.get("company")
    ]


def _timeline(inquiry: Inquiry) -> dict[str, Any]:
    first_response = None
    if inquiry.taken_at is not None:
        first_response = inquiry.taken_at - inquiry.received_at
    return {"first_response": first_response}


def _detail_context(request: HttpRequest, inquiry: Inquiry, **extra: Any) -> dict[str, Any]:
    actor = _actor(request)
    may_work = can(actor, WORK, inquiry)
    may_review = can(actor, REVIEW)
    curator = inquiry.curator or (inquiry.company.curator if inquiry.company is not None else None)
    is_open = inquiry.status in (InquiryStatus.NEW, InquiryStatus.TAKEN)
    context: dict[str, Any] = {
        "inquiry": inquiry,
        "curator": curator,
        "candidates": candidates_of(inquiry),
        "history": selectors.inquiry_history(inquiry=inquiry),
        "may_work": may_work,
        "may_review": may_review,
        # While the head of sales has to settle the client, nobody takes it (the service refuses too).
        "can_take": may_work and inquiry.status == InquiryStatus.NEW and not inquiry.needs_review,
        "can_qualify": may_work and inquiry.status == InquiryStatus.TAKEN,
        # S3: a taken or qualified inquiry of a settled client becomes a deal (the service says why not).
        "can_convert": may_work
        and inquiry.status in (InquiryStatus.TAKEN, InquiryStatus.QUALIFIED)
        and can(actor, "sales.add_deal"),
        "can_reject": may_work and is_open,
        "can_confirm": may_review and is_open and (inquiry.needs_review or inquiry.company_id is None),
        "reject_form": RejectForm(),
        "confirm_form": ConfirmMatchForm(actor=actor),
        "now": timezone.now(),
        **_timeline(inquiry),
    }
    context.update(extra)
    return context


def _inquiry(request: HttpRequest, pk: int) -> Inquiry:
    return selectors.inquiry_get(actor=_actor(request), inquiry_id=pk)


@require(VIEW)
def inquiry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything about an inquiry: who sent it, which company it matched and why, who got it and why, the
    timeline against the response standard, the actions the user may take, and its history."""
    inquiry = _inquiry(request, pk)
    return render(request, "inquiries/inquiry_detail.html", _detail_context(request, inquiry))


def _refused(request: HttpRequest, inquiry: Inquiry, exc: ValidationError) -> HttpResponse:
    for message in exc.messages:
        messages.error(request, message)
    return redirect("inquiries:detail", pk=inquiry.pk)


@require(VIEW)
@require_POST
def inquiry_take(request: HttpRequest, pk: int) -> HttpResponse:
    """Take an inquiry into work (R1: the first response). Only its curator — or anyone when it has none."""
    inquiry = _inquiry(request, pk)
    ensure(request.user, WORK, inquiry)
    try:
        services.inquiry_take(actor=_actor(request), inquiry=inquiry)
    except ValidationError as exc:
        return _refused(request, inquiry, exc)
    messages.success(request, _("You took the inquiry."))
    return redirect("inquiries:detail", pk=inquiry.pk)


@require(VIEW)
@require_POST
def inquiry_qualify(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _inquiry(request, pk)
    ensure(request.user, WORK, inquiry)
    try:
        services.inquiry_qualify(actor=_actor(request), inquiry=inquiry)
    except ValidationError as exc:
        return _refused(request, inquiry, exc)
    messages.success(request, _("The inquiry is qualified."))
    return redirect("inquiries:detail", pk=inquiry.pk)


@require(VIEW)
@require_POST
def inquiry_convert(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a taken or qualified inquiry into a deal (S3) and open the deal's page."""
    inquiry = _inquiry(request, pk)
    ensure(request.user, WORK, inquiry)
    try:
        deal = services.inquiry_convert(actor=_actor(request), inquiry=inquiry)
    except ValidationError as exc:
        return _refused(request, inquiry, exc)
    messages.success(request, _("The inquiry became a deal."))
    return redirect("sales:detail", pk=deal.pk)


@require(VIEW)
@require_POST
def inquiry_reject(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _inquiry(request, pk)
    ensure(request.user, WORK, inquiry)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.inquiry_reject(
                actor=_actor(request), inquiry=inquiry, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The inquiry was rejected."))
            return redirect("inquiries:detail", pk=inquiry.pk)
    context = _detail_context(request, inquiry, reject_form=form, open_form="reject")
    return render(request, "inquiries/inquiry_detail.html", context, status=400)


@require(REVIEW)
@require_POST
def inquiry_confirm_match(request: HttpRequest, pk: int) -> HttpResponse:
    """The head of sales attaches the inquiry to a company (its curator gets it) or declares a new client."""
    inquiry = _inquiry(request, pk)
    form = ConfirmMatchForm(request.POST, actor=_actor(request))
    back = request.POST.get("back") == "review"
    if form.is_valid():
        target = form.cleaned_data["target"]
        try:
            inquiry = services.inquiry_confirm_match(actor=_actor(request), inquiry=inquiry, company=target)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if target is None:
                messages.success(request, _("The inquiry is a new client."))
            else:
                messages.success(
                    request,
                    _("The inquiry is attached to %(company)s.") % {"company": target.short_name},
                )
            return redirect("inquiries:review") if back else redirect("inquiries:detail", pk=pk)
    if back:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
        return redirect("inquiries:review")
    context = _detail_context(request, inquiry, confirm_form=form, open_form="confirm")
    return render(request, "inquiries/inquiry_detail.html", context, status=400)


# The head of sales' review queue --------------------------------------------------------------------------


@require(REVIEW)
def review_queue(request: HttpRequest) -> HttpResponse:
    """Inquiries whose match is only possible: the head of sales confirms it or declares a new client (R2)."""
    inquiries = selectors.inquiry_list(actor=_actor(request), needs_review=True, status="")
    page = FewRowsPaginator(inquiries, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "inquiries/review_queue.html",
        {
            "now": timezone.now(),
            "confirm_form": ConfirmMatchForm(actor=_actor(request)),
            **_page_context(page),
        },
    )


# The response report (R1) ---------------------------------------------------------------------------------


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@require("companies.view_reports")
def response_report(request: HttpRequest) -> HttpResponse:
    """Per channel and per manager: inquiries, taken, late, average and median first-response time (R1)."""
    today = timezone.localdate()
    date_to = _parse_date(request.GET.get("to")) or today
    date_from = _parse_date(request.GET.get("from")) or (date_to - timedelta(days=29))
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    tz = timezone.get_current_timezone()
    start = datetime.combine(date_from, time.min, tzinfo=tz)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
    report = selectors.response_report(actor=_actor(request), date_from=start, date_to=end)
    return render(
        request,
        "inquiries/report.html",
        {"report": report, "date_from": date_from, "date_to": date_to},
    )


# Settings (head of sales) ---------------------------------------------------------------------------------


@require(SETTINGS)
def settings_standards(request: HttpRequest) -> HttpResponse:
    """Response standards per channel (R1): how soon a new inquiry must be taken."""
    current = dict(ResponseStandard.objects.values_list("channel", "minutes"))
    form = ResponseStandardsForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            settings_services.response_standards_save(actor=_actor(request), minutes=form.minutes())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The response standards were saved."))
            return redirect("inquiries:settings_standards")
    rows = [
        {"field": form[value], "label": label, "current": minutes_human(current.get(value))}
        for value, label in Channel.choices
    ]
    return render(
        request, "inquiries/settings_standards.html", {"form": form, "rows": rows, "tab": "standards"}
    )


def rule_meaning(rule: DistributionRule, members: list[User]) -> str:
    """A distribution rule in words, as the head of sales would say it."""
    names = ", ".join(m.full_name for m in members) or _("nobody")
    if rule.kind == RuleKind.CITY:
        condition = _("New clients from “%(city)s”") % {"city": rule.value}
    elif rule.kind == RuleKind.SPHERE:
        condition = _("New clients in the sphere “%(sphere)s”") % {"sphere": rule.sphere or "—"}
    elif rule.kind == RuleKind.TECHNOLOGY:
        condition = _("New clients of the sales technology “%(technology)s”") % {
            "technology": rule.sales_technology or "—"
        }
    else:
        condition = _("All other new clients")
    if len(members) == 1:
        return _("%(condition)s go to %(names)s.") % {"condition": condition, "names": names}
    return _("%(condition)s go in turn to %(names)s (whoever got one longest ago is next).") % {
        "condition": condition,
        "names": names,
    }


@require(SETTINGS)
def settings_rules(request: HttpRequest) -> HttpResponse:
    """Distribution rules (R2), tried in order: the first that fits a new client names its curator."""
    rules = list(
        DistributionRule.objects.select_related("sphere", "sales_technology")
        .prefetch_related("members")
        .order_by("position", "id")
    )
    rows = []
    for rule in rules:
        members = sorted(rule.members.all(), key=lambda u: u.full_name)
        rows.append({"rule": rule, "members": members, "meaning": rule_meaning(rule, members)})
    return render(request, "inquiries/settings_rules.html", {"rows": rows, "tab": "rules"})


def _rule(pk: int) -> DistributionRule:
    rule = DistributionRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404
    return rule


@require(SETTINGS)
def settings_rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = _rule(pk) if pk is not None else None
    form = DistributionRuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            saved = settings_services.distribution_rule_save(
                actor=_actor(request), rule=rule, **form.service_fields()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The rule “%(name)s” was saved.") % {"name": saved.name})
            return redirect("inquiries:settings_rules")
    return render(request, "inquiries/settings_rule_form.html", {"form": form, "rule": rule, "tab": "rules"})


@require(SETTINGS)
@require_POST
def settings_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(pk)
    settings_services.distribution_rule_delete(actor=_actor(request), rule=rule)
    messages.success(request, _("The rule “%(name)s” was removed.") % {"name": rule.name})
    return redirect("inquiries:settings_rules")


@require(SETTINGS)
def settings_domains(request: HttpRequest) -> HttpResponse:
    """Public mail services (mail.ru, gmail.com, …): their addresses never match a company (R2)."""
    form = PublicMailDomainForm(request.POST or None)
    if request.method == "POST":
        remove = request.POST.get("remove")
        if remove:
            domain = PublicMailDomain.objects.filter(pk=remove).first() if remove.isdigit() else None
            if domain is None:
                raise Http404
            settings_services.public_mail_domain_remove(actor=_actor(request), domain=domain)
            messages.success(request, _("%(domain)s was removed from the list.") % {"domain": domain.domain})
            return redirect("inquiries:settings_domains")
        if form.is_valid():
            try:
                added = settings_services.public_mail_domain_add(
                    actor=_actor(request), domain=form.cleaned_data["domain"]
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("%(domain)s was added to the list.") % {"domain": added.domain})
                return redirect("inquiries:settings_domains")
    domains = list(PublicMailDomain.objects.order_by("domain"))
    return render(
        request, "inquiries/settings_domains.html", {"form": form, "domains": domains, "tab": "domains"}
    )


@require(SETTINGS)
def settings_embed(request: HttpRequest) -> HttpResponse:
    """The code a company pastes into its site to show the public inquiry form, per contact source (S2)."""
    sources = source_list()
    chosen = None
    raw = request.GET.get("source", "")
    if raw.isdigit():
        chosen = next((s for s in sources if s.pk == int(raw)), None)
    url = request.build_absolute_uri(reverse("public_inquiry"))
    if chosen is not None:
        url += f"?source={chosen.pk}"
    snippet = (
        f'<iframe src="{escape(url)}" title="{escape(_("Send us an inquiry"))}" width="100%" height="720" '
        'style="border:0;max-width:40rem" loading="lazy"></iframe>'
    )
    return render(
        request,
        "inquiries/settings_embed.html",
        {
            "sources": [s for s in sources if s.is_active],
            "chosen": chosen,
            "url": url,
            "snippet": snippet,
            "tab": "embed",
        },
    )

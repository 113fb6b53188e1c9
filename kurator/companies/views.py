"""HTML pages of the dossier (D1, D2, D9, D11; R2, R3).

Every view names its permission with ``@require``; object-level rights (the curator edits their client)
are checked with ``ensure`` once the object is loaded. Reads go through kurator.companies.selectors, writes
through kurator.companies.services; forms only parse input and show the services' errors next to their fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import ResolverMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from kurator.access.decorators import ensure, require
from kurator.access.policy import can, may_curate
from kurator.access.scoping import (
    access_bank_account_by_id,
    access_contact_by_id,
    curator_candidates,
    merged_survivor_id,
    visible_companies,
)
from kurator.accounts.models import User
from kurator.companies import dossier, reports, selectors, services
from kurator.companies.forms import (
    REFERRER_CHOICE,
    REFERRER_MATCHES,
    BankAccountForm,
    CompanyFilterForm,
    CompanyForm,
    ContactForm,
    CuratorForm,
    DictionaryItemForm,
    MergeForm,
    MergeSearchForm,
    ReportPeriodForm,
)
from kurator.companies.models import BankAccount, Company, Contact
from kurator.core.errors import EditConflict
from kurator.core.forms import apply_service_errors
from kurator.core.pagination import FewRowsPaginator

DEFAULT_PER_PAGE = 25
CITY_OPTIONS_CACHE_KEY = "companies:city-options"
CITY_OPTIONS_TTL = 300

# Column header -> the sort it applies first and the one a second click applies.
SORT_COLUMNS = {
    "name": ("name", "-name"),
    "completeness": ("-completeness", "completeness"),
    "updated": ("-updated", "updated"),
    "curator": ("curator", "curator"),
}


def _actor(request: HttpRequest) -> User:
    # Every view below is behind @require, so the user is a signed-in member.
    return cast(User, request.user)


def follows_merged(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A merged duplicate's pages redirect (302) to the same page of the survivor, with a message; nothing is
    read from or written through the old id. Put under ``@require``, so that outsiders learn nothing."""

    @wraps(view)
    def wrapped(request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
        survivor_id = merged_survivor_id(request.user, pk)
        if survivor_id is None:
            return view(request, pk, **kwargs)
        name = Company.objects.filter(pk=pk).values_list("short_name", flat=True).first()
        messages.info(
            request,
            _("%(name)s was merged into this company; its records and history are here.") % {"name": name},
        )
        match = cast(ResolverMatch, request.resolver_match)
        return redirect(reverse(match.view_name, kwargs={**kwargs, "pk": survivor_id}))

    return wrapped


# The company list ----------------------------------------------------------------------------------------


def _city_options(actor: Any) -> list[str]:
    # The distinct cities scan the whole base; they only feed the filter's suggestions, so a few minutes old
    # is fine. Everyone who reaches this page sees every company (R3), so one cached list serves all.
    cities = cache.get(CITY_OPTIONS_CACHE_KEY)
    if cities is None:
        cities = list(
            visible_companies(actor)
            .exclude(city="")
            .order_by("city")
            .values_list("city", flat=True)
            .distinct()[:500]
        )
        cache.set(CITY_OPTIONS_CACHE_KEY, cities, CITY_OPTIONS_TTL)
    return cities


@require("companies.view_company")
def company_list(request: HttpRequest) -> HttpResponse:
    """The company list: search (name, INN, phone), filters, sort and pages, as you type with htmx (R3)."""
    curators = list(curator_candidates())
    # In the order of the company form and the dictionary: sub-sources after their parent.
    sources = list(selectors.sources_in_tree_order())
    form = CompanyFilterForm(request.GET, curators=curators, sources=sources)
    values = form.values()
    sort: str = values["sort"] if values.get("sort") in selectors.SORTS else "name"
    per_page = values.get("per_page") or DEFAULT_PER_PAGE
    companies = selectors.company_list(
        actor=_actor(request),
        search=values.get("q") or "",
        curator=values.get("curator"),
        status=values.get("status") or "",
        source=values.get("source"),
        city=(values.get("city") or "").strip(),
        sort=sort,
    )
    # A filter that cannot be applied (an unknown curator, a search too long) must not quietly show the
    # whole base as if it were the answer: the error is shown and nothing is listed.
    filter_errors = form.filter_errors()
    if filter_errors:
        companies = companies.none()
    page = FewRowsPaginator(companies, per_page).get_page(request.GET.get("page"))
    filtered = bool(filter_errors) or any(
        values.get(name) for name in ("q", "curator", "status", "source", "city")
    )
    me = _actor(request)
    context = {
        "form": form,
        "filter_errors": filter_errors,
        # Sellers get a one-click filter on the clients they curate (R2).
        "my_curator_id": me.pk if may_curate(me) else None,
        "reset_url": reverse("companies:list") + (f"?sort={sort}" if sort != "name" else ""),
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "sort": sort,
        "per_page": per_page,
        "per_page_choices": (25, 50, 100),
        "filtered": filtered,
        "sort_links": {
            column: (
                second if sort == first and first != second else first,
                sort.lstrip("-") == first.lstrip("-"),
            )
            for column, (first, second) in SORT_COLUMNS.items()
        },
        "city_options": _city_options(request.user),
    }
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    template = "companies/_company_results.html" if partial else "companies/company_list.html"
    response = render(request, template, context)
    # The same URL answers a whole page or the table alone: caches must tell the two apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


# The dossier ---------------------------------------------------------------------------------------------


@dataclass
class Dossier:
    company: Company
    contacts: list[Contact]
    bank_accounts: list[BankAccount]
    categories: list[Any]
    completeness: int
    missing: list[dossier.ChecklistItem]
    freshness: dict[str, dict[str, Any]]
    can_edit: bool
    can_edit_records: bool
    can_change_curator: bool


def _dossier(request: HttpRequest, pk: int) -> Dossier:
    """The company with everything the dossier header and tabs show, read in a fixed number of queries."""
    company = selectors.company_get(actor=_actor(request), company_id=pk)
    contacts = list(company.contacts.all())
    accounts = list(company.bank_accounts.all())
    categories = list(company.product_categories.all())
    status = dossier.checklist_status(company, contacts, bool(accounts), bool(categories))
    return Dossier(
        company=company,
        contacts=contacts,
        bank_accounts=accounts,
        categories=categories,
        completeness=dossier.completeness_of(status),
        missing=dossier.missing_items(status),
        freshness={s["code"]: s for s in dossier.section_freshness(company)},
        can_edit=can(request.user, "companies.change_company", company),
        can_edit_records=can(request.user, "companies.change_company_records", company),
        can_change_curator=can(request.user, "companies.change_curator"),
    )


def render_dossier(request: HttpRequest, pk: int, tab: str, template: str, **extra: Any) -> HttpResponse:
    d = _dossier(request, pk)
    context = {"d": d, "company": d.company, "tab": tab, **extra}
    if tab == "people":
        context["tree"] = selectors.contact_tree(d.contacts)
    if tab == "history":
        entries = selectors.company_history(company=d.company)
        context["page"] = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, template, context)


@require("companies.view_company")
@follows_merged
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """General information and requisites with bank accounts (D1)."""
    return render_dossier(request, pk, "general", "companies/company_detail.html")


@require("companies.view_company")
@follows_merged
def company_people(request: HttpRequest, pk: int) -> HttpResponse:
    """The org structure as a tree with decision roles (D2) and birthdays (D10)."""
    return render_dossier(request, pk, "people", "companies/company_people.html")


@require("companies.view_company")
@follows_merged
def company_profile(request: HttpRequest, pk: int) -> HttpResponse:
    """The purchase profile (D9) and where the client came from (S2)."""
    return render_dossier(request, pk, "profile", "companies/company_profile.html")


@require("companies.view_company")
@follows_merged
def company_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Who changed what, when, old → new, and why (D11)."""
    return render_dossier(request, pk, "history", "companies/company_history.html")


# Company forms -------------------------------------------------------------------------------------------


@require("companies.add_company")
def company_create(request: HttpRequest) -> HttpResponse:
    """A new company; its creator becomes the curator unless the head of sales names another (R2)."""
    with_curator = can(request.user, "companies.change_curator")
    form = CompanyForm(request.POST or None, actor=_actor(request), with_curator=with_curator)
    if request.method == "POST" and form.is_valid():
        try:
            company = services.company_create(actor=_actor(request), **form.service_fields())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The company %(name)s was added.") % {"name": company.short_name})
            return redirect("companies:detail", pk=company.pk)
    return render(request, "companies/company_form.html", {"form": form, "company": None})


@require("companies.view_company")
@follows_merged
def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the dossier (curator, head of sales, administrator). The form carries the version it was
    loaded at, so a colleague's edit in between is reported instead of silently overwritten."""
    company = selectors.company_get(actor=_actor(request), company_id=pk)
    ensure(request.user, "companies.change_company", company)
    form = CompanyForm(request.POST or None, actor=_actor(request), company=company)
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            services.company_update(
                actor=_actor(request),
                company=company,
                expected_version=form.cleaned_data.get("version"),
                **form.service_fields(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except EditConflict as exc:
            conflict = True
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The dossier was saved."))
            return redirect("companies:detail", pk=company.pk)
    return render(
        request, "companies/company_form.html", {"form": form, "company": company, "conflict": conflict}
    )


@require("companies.view_company")
def referrer_options(request: HttpRequest) -> HttpResponse:
    """The recommending-client picker of the company form (S2): up to ten clients whose name, INN or phone
    fits what was typed (at least two characters), never the company being edited."""
    text = " ".join((request.GET.get("referred_by") or request.GET.get("q") or "").split())
    if len(text) < 2:
        text = ""
    companies: list[Company] = []
    if text:
        matches = selectors.company_list(actor=_actor(request), search=text)
        own = request.GET.get("for")
        if own and own.isdigit():
            matches = matches.exclude(pk=int(own))
        companies = list(matches[:REFERRER_MATCHES])
    return render(
        request,
        "companies/_referrer_options.html",
        {"companies": companies, "query": text, "choice_name": REFERRER_CHOICE},
    )


@require("companies.change_curator")
@follows_merged
def company_curator(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand the client to another curator, with a reason kept in the history; both curators are notified and
    the open inquiries follow (R2)."""
    company = selectors.company_get(actor=_actor(request), company_id=pk)
    form = CuratorForm(request.POST or None, company=company)
    if request.method == "POST" and form.is_valid():
        try:
            services.company_reassign(
                actor=_actor(request),
                company=company,
                curator=form.cleaned_data["curator"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is now the curator of %(company)s.")
                % {"name": form.cleaned_data["curator"].full_name, "company": company.short_name},
            )
            return redirect("companies:detail", pk=company.pk)
    return render(request, "companies/curator_form.html", {"form": form, "company": company})


# People ---------------------------------------------------------------------------------------------------


def _company_for_records(request: HttpRequest, pk: int) -> Company:
    company = selectors.company_get(actor=_actor(request), company_id=pk)
    ensure(request.user, "companies.change_company_records", company)
    return company


def _contact_of(request: HttpRequest, company: Company, contact_pk: int) -> Contact:
    contact = access_contact_by_id(request.user, contact_pk)
    if contact.company_id != company.pk:
        raise Http404
    return contact


@require("companies.view_company")
@follows_merged
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company_for_records(request, pk)
    colleagues = list(company.contacts.all())
    initial = {"reports_to": request.GET.get("reports_to")} if request.GET.get("reports_to") else None
    form = ContactForm(request.POST or None, company=company, colleagues=colleagues, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(actor=_actor(request), company=company, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s was added to the people.") % {"name": contact.full_name})
            return redirect("companies:people", pk=company.pk)
    return render(request, "companies/contact_form.html", {"form": form, "company": company, "contact": None})


@require("companies.view_company")
@follows_merged
def contact_edit(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    company = _company_for_records(request, pk)
    contact = _contact_of(request, company, contact_pk)
    colleagues = list(company.contacts.all())
    form = ContactForm(request.POST or None, company=company, colleagues=colleagues, contact=contact)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(actor=_actor(request), contact=contact, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The changes to %(name)s were saved.") % {"name": contact.full_name})
            return redirect("companies:people", pk=company.pk)
    return render(
        request, "companies/contact_form.html", {"form": form, "company": company, "contact": contact}
    )


@require("companies.view_company")
@follows_merged
def contact_delete(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    company = _company_for_records(request, pk)
    contact = _contact_of(request, company, contact_pk)
    if request.method == "POST":
        services.contact_delete(actor=_actor(request), contact=contact)
        messages.success(request, _("%(name)s was removed from the people.") % {"name": contact.full_name})
        return redirect("companies:people", pk=company.pk)
    return render(
        request,
        "companies/confirm_delete.html",
        {
            "company": company,
            "title": _("Remove a person"),
            "object_label": contact.full_name,
            "question": _(
                "%(name)s will be removed from the people of %(company)s. The history keeps the record."
            )
            % {"name": contact.full_name, "company": company.short_name},
            "explanation": _(
                "Use this for a person entered by mistake: someone who left the company is better marked "
                "as no longer working there."
            ),
            "cancel_url": "companies:people",
        },
    )


# Bank accounts --------------------------------------------------------------------------------------------


def _account_of(request: HttpRequest, company: Company, account_pk: int) -> BankAccount:
    account = access_bank_account_by_id(request.user, account_pk)
    if account.company_id != company.pk:
        raise Http404
    return account


@require("companies.view_company")
@follows_merged
def bank_account_create(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company_for_records(request, pk)
    form = BankAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.bank_account_create(actor=_actor(request), company=company, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The bank account was added."))
            return redirect("companies:detail", pk=company.pk)
    return render(
        request, "companies/bank_account_form.html", {"form": form, "company": company, "account": None}
    )


@require("companies.view_company")
@follows_merged
def bank_account_edit(request: HttpRequest, pk: int, account_pk: int) -> HttpResponse:
    company = _company_for_records(request, pk)
    account = _account_of(request, company, account_pk)
    initial = {f: getattr(account, f) for f in services.BANK_ACCOUNT_FIELDS}
    form = BankAccountForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.bank_account_update(actor=_actor(request), account=account, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The bank account was saved."))
            return redirect("companies:detail", pk=company.pk)
    return render(
        request, "companies/bank_account_form.html", {"form": form, "company": company, "account": account}
    )


@require("companies.view_company")
@follows_merged
def bank_account_delete(request: HttpRequest, pk: int, account_pk: int) -> HttpResponse:
    company = _company_for_records(request, pk)
    account = _account_of(request, company, account_pk)
    if request.method == "POST":
        services.bank_account_delete(actor=_actor(request), account=account)
        messages.success(request, _("The bank account was removed."))
        return redirect("companies:detail", pk=company.pk)
    return render(
        request,
        "companies/confirm_delete.html",
        {
            "company": company,
            "title": _("Remove a bank account"),
            "object_label": str(account),
            "question": _(
                "The account %(account)s will be removed from the requisites of %(company)s. The history "
                "keeps the record."
            )
            % {"account": account.settlement_account, "company": company.short_name},
            "explanation": _("If it was the primary account, the next one becomes primary."),
            "cancel_url": "companies:detail",
        },
    )


# Dictionaries ---------------------------------------------------------------------------------------------


def _dictionary_model(kind: str) -> Any:
    try:
        return services.DICTIONARIES[kind]
    except KeyError:
        raise Http404 from None


def _ordered_items(kind: str, model: Any) -> list[Any]:
    # Merged duplicates are not clients any more: they are not counted.
    if kind == "lost_reasons":
        # Reasons for losing are used by deals, not companies: the column counts the deals.
        return list(model.objects.annotate(company_count=Count("deals")).order_by("position", "name"))
    company_count = Count("companies", filter=Q(companies__merged_into__isnull=True))
    items = list(model.objects.annotate(company_count=company_count).order_by("position", "name"))
    if kind != "sources":
        return items
    # Sub-sources follow their parent.
    by_parent: dict[int | None, list[Any]] = {}
    for item in items:
        by_parent.setdefault(item.parent_id, []).append(item)
    ordered: list[Any] = []
    for top in by_parent.get(None, []):
        ordered.append(top)
        ordered.extend(by_parent.get(top.pk, []))
    return ordered


@require("companies.manage_dictionaries")
def dictionaries(request: HttpRequest) -> HttpResponse:
    """The dictionaries the head of sales keeps (S2, D9)."""
    kinds = [
        {
            "kind": kind,
            "label": model._meta.verbose_name_plural,
            "count": model.objects.filter(is_active=True).count(),
            "names": list(
                model.objects.filter(is_active=True)
                .order_by("position", "name")
                .values_list("name", flat=True)[:6]
            ),
        }
        for kind, model in services.DICTIONARIES.items()
    ]
    return render(request, "companies/dictionaries.html", {"kinds": kinds})


@require("companies.manage_dictionaries")
def dictionary(request: HttpRequest, kind: str) -> HttpResponse:
    """One dictionary: its entries and a form to add one."""
    model = _dictionary_model(kind)
    form = DictionaryItemForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.dictionary_item_save(actor=_actor(request), kind=kind, **form.service_fields())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” was added.") % {"name": item.name})
            return redirect("companies:dictionary", kind=kind)
    return render(
        request,
        "companies/dictionary.html",
        {
            "kind": kind,
            "label": model._meta.verbose_name_plural,
            "items": _ordered_items(kind, model),
            "form": form,
        },
    )


@require("companies.manage_dictionaries")
def dictionary_item(request: HttpRequest, kind: str, item_pk: int) -> HttpResponse:
    """Rename, reorder or (de)activate an entry. Entries are never deleted: companies refer to them."""
    model = _dictionary_model(kind)
    item = model.objects.filter(pk=item_pk).first()
    if item is None:
        raise Http404
    if request.method == "POST" and "toggle" in request.POST:
        extra = (
            {"parent": item.parent, "is_recommendation": item.is_recommendation} if kind == "sources" else {}
        )
        try:
            services.dictionary_item_save(
                actor=_actor(request),
                kind=kind,
                item=item,
                name=item.name,
                position=item.position,
                is_active=not item.is_active,
                **extra,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if item.is_active:
                messages.success(request, _("“%(name)s” is active again.") % {"name": item.name})
            else:
                messages.success(
                    request,
                    _("“%(name)s” was deactivated: it is no longer offered in forms.") % {"name": item.name},
                )
        return redirect("companies:dictionary", kind=kind)
    form = DictionaryItemForm(request.POST or None, kind=kind, item=item)
    if request.method == "POST" and form.is_valid():
        try:
            services.dictionary_item_save(
                actor=_actor(request), kind=kind, item=item, **form.service_fields()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” was saved.") % {"name": item.name})
            return redirect("companies:dictionary", kind=kind)
    return render(
        request,
        "companies/dictionary_item_form.html",
        {"kind": kind, "label": model._meta.verbose_name_plural, "item": item, "form": form},
    )


# Merge (R2; D12) ------------------------------------------------------------------------------------------

MERGE_CANDIDATES_PER_PAGE = 20


@require("companies.merge_company")
@follows_merged
def company_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 1 of a merge: find the duplicate by INN, name or phone (similar names are offered first)."""
    company = selectors.company_get(actor=_actor(request), company_id=pk)
    form = MergeSearchForm(request.GET or None)
    query = (form.cleaned_data.get("q") or "").strip() if form.is_valid() else ""
    # Until the head of sales types something, companies named like this one are the likely duplicates.
    search = query or company.sort_name
    candidates = selectors.company_list(actor=_actor(request), search=search).exclude(pk=company.pk)
    page = FewRowsPaginator(candidates, MERGE_CANDIDATES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "companies/merge_search.html",
        {"company": company, "form": form, "page": page, "query": query, "search": search},
    )


@require("companies.merge_company")
@follows_merged
def company_merge_confirm(request: HttpRequest, pk: int, duplicate_pk: int) -> HttpResponse:
    """Step 2: what will move and what will be filled, a reason, and the merge itself."""
    survivor = selectors.company_get(actor=_actor(request), company_id=pk)
    duplicate = (
        visible_companies(request.user, include_merged=True)
        .select_related("curator", "merged_into")
        .filter(pk=duplicate_pk)
        .first()
    )
    if duplicate is None:
        raise Http404
    form = MergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.company_merge(
                actor=_actor(request),
                survivor=survivor,
                duplicate=duplicate,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(duplicate)s was merged into %(survivor)s.")
                % {"duplicate": duplicate.short_name, "survivor": survivor.short_name},
            )
            return redirect("companies:detail", pk=survivor.pk)
    preview = selectors.company_merge_preview(actor=_actor(request), survivor=survivor, duplicate=duplicate)
    return render(
        request,
        "companies/merge_confirm.html",
        {"company": survivor, "duplicate": duplicate, "preview": preview, "form": form},
    )


# Reports (R2, S2) -----------------------------------------------------------------------------------------

REPORT_ROWS_PER_PAGE = 50


def _report_context(request: HttpRequest) -> dict[str, Any]:
    form = ReportPeriodForm(request.GET or None)
    period = form.period()
    if not form.is_bound:
        form = ReportPeriodForm(initial={"from": period.date_from, "to": period.date_to})
    return {"form": form, "period": period}


@require("companies.view_reports")
def report_overlap(request: HttpRequest) -> HttpResponse:
    """R2: companies more than one manager worked on in the period, and likely duplicates to merge."""
    context = _report_context(request)
    report = reports.overlap_report(actor=_actor(request), period=context["period"])
    context.update(
        report=report,
        overlaps=FewRowsPaginator(report.overlaps, REPORT_ROWS_PER_PAGE).get_page(request.GET.get("page")),
        duplicates=FewRowsPaginator(report.duplicates, REPORT_ROWS_PER_PAGE).get_page(
            request.GET.get("duplicates_page")
        ),
    )
    return render(request, "companies/report_overlap.html", context)


@require("companies.view_reports")
def report_sources(request: HttpRequest) -> HttpResponse:
    """S2: inquiries, new clients and conversion per contact source for the period."""
    context = _report_context(request)
    context["report"] = reports.sources_report(actor=_actor(request), period=context["period"])
    return render(request, "companies/report_sources.html", context)

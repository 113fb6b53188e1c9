"""The confidential solvency section of the dossier (D4, R4): the rating with its factors, the ratios by year,
payment discipline, the suggested credit limit and the statements (add, edit, import).

Confidential: the curator, the head of sales, finance and the administrator see it (``finance.view_solvency``
with the company), and anyone the head of sales gives a live grant to. Anyone else in the department still
opens the tab — it is part of the dossier — but gets a lock notice with status 403, none of the figures and a
«Request access» button (or the date of their request still waiting). The views name
``companies.view_company`` for the coverage test and check the object permission inside.

Audit (D12): every opening of the tab is logged (VIEW_SOLVENCY) with the rule or grant that allowed it, or
``no_grant`` when it was refused; opening a year's figures to correct them is logged as VIEW_STATEMENTS.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kurator.access.audit import audit_record
from kurator.access.confidential import REFUSED_NO_GRANT, clearance
from kurator.access.decorators import ensure, require
from kurator.access.models import AuditAction
from kurator.access.policy import can
from kurator.access.scoping import access_company_by_id, visible_financial_statements
from kurator.access.selectors import pending_request_for
from kurator.accounts.models import User
from kurator.companies.views import follows_merged, render_dossier
from kurator.core.errors import EditConflict
from kurator.core.forms import apply_service_errors
from kurator.finance.forms.solvency import StatementForm, StatementImportForm
from kurator.finance.models import FinancialStatement
from kurator.finance.selectors.solvency import company_solvency as solvency_of
from kurator.finance.services import solvency as services

VIEW = "finance.view_solvency"
CHANGE = "finance.change_financial_statement"


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _display(value: Any, unit: str) -> str:
    """A value as the page shows it: ``1,85``, ``35,2 %``, ``12 days``; ``—`` when unknown."""
    if value is None:
        return "—"
    if unit == "percent":
        return f"{number_format(value * 100, decimal_pos=1)} %"
    if unit == "ratio":
        return number_format(value, decimal_pos=2)
    if unit == "days":
        days = int(value)
        return ngettext("%(days)s day", "%(days)s days", days) % {"days": days}
    return number_format(value, decimal_pos=0) if isinstance(value, int) else number_format(value, 1)


def _chart(ratios: list[dict[str, Any]]) -> dict[str, Any]:
    """The ratios by year, oldest first, for the chart (percentages as numbers)."""
    rows = list(reversed(ratios))

    def pct(value: Any) -> float | None:
        return None if value is None else float(value * 100)

    return {
        "labels": [str(r["year"]) for r in rows],
        "liquidity": [
            None if r["current_liquidity"] is None else float(r["current_liquidity"]) for r in rows
        ],
        "equity_ratio": [pct(r["equity_ratio"]) for r in rows],
        "net_margin": [pct(r["net_margin"]) for r in rows],
    }


def _locked(request: HttpRequest, company: Any) -> HttpResponse:
    response = render_dossier(
        request,
        company.pk,
        "solvency",
        "finance/solvency_locked.html",
        pending_request=pending_request_for(actor=request.user, company=company),
        may_request=can(request.user, "access.request_access"),
    )
    response.status_code = 403
    return response


def solvency_clearance(request: HttpRequest, company: Any, action: str) -> bool:
    """Whether the signed-in user may see ``company``'s confidential figures (the policy decides), with the
    view logged under the rule or grant that allowed it, or ``no_grant`` (R4, D12)."""
    allowed = can(request.user, VIEW, company)
    cleared = clearance(request.user, company)
    rule = cleared.rule if cleared.allowed == allowed else ("policy" if allowed else REFUSED_NO_GRANT)
    audit_record(action=action, allowed=allowed, rule=rule, obj=company, request=request)
    return allowed


@require("companies.view_company")
@follows_merged
def company_solvency(request: HttpRequest, pk: int) -> HttpResponse:
    """D4/R4: the solvency tab for those who may see it; a lock notice (403, no figures) for the others. Both
    are logged (D12)."""
    company = access_company_by_id(request.user, pk)
    if not solvency_clearance(request, company, AuditAction.VIEW_SOLVENCY):
        return _locked(request, company)
    data = solvency_of(company=company)
    factors = [{**f, "display": _display(f["value"], f["unit"])} for f in data["factors"]]
    ratios = [
        {
            **r,
            "liquidity_display": _display(r["current_liquidity"], "ratio"),
            "equity_ratio_display": _display(r["equity_ratio"], "percent"),
            "net_margin_display": _display(r["net_margin"], "percent"),
        }
        for r in data["ratios"]
    ]
    discipline = data["payment_discipline"]
    return render_dossier(
        request,
        pk,
        "solvency",
        "finance/solvency_tab.html",
        solvency=data,
        factors=factors,
        ratios=ratios,
        share_late_display=_display(discipline["share_paid_late"], "percent"),
        chart=_chart(data["ratios"]),
        may_change=can(request.user, CHANGE, company),
    )


def _statement_form_page(
    request: HttpRequest,
    pk: int,
    form: StatementForm,
    statement: FinancialStatement | None,
    status: int = 200,
) -> HttpResponse:
    response = render_dossier(
        request,
        pk,
        "solvency",
        "finance/solvency_statement_form.html",
        form=form,
        statement=statement,
        conflict=status == 409,
    )
    response.status_code = status
    return response


@require("companies.view_company")
@follows_merged
def statement_add(request: HttpRequest, pk: int) -> HttpResponse:
    """D4: enter a year's figures (finance, the head of sales, the curator)."""
    company = access_company_by_id(request.user, pk)
    ensure(request.user, CHANGE, company)
    form = StatementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            statement = services.statement_create(
                actor=_actor(request), company=company, **form.service_fields()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The statements of %(year)s were saved.") % {"year": statement.year})
            return redirect("finance:company_solvency", pk=company.pk)
    return _statement_form_page(request, company.pk, form, None)


@require("companies.view_company")
def statement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a year's figures; a colleague's change in between is a conflict (409)."""
    statement = visible_financial_statements(request.user).select_related("company").filter(pk=pk).first()
    if statement is None:
        raise Http404
    ensure(request.user, CHANGE, statement.company)
    if request.method == "GET":
        rule = clearance(request.user, statement.company).rule
        audit_record(
            action=AuditAction.VIEW_STATEMENTS,
            allowed=True,
            rule=rule,
            obj=statement,
            company=statement.company,
            request=request,
        )
    initial = {name: getattr(statement, name) for name in services.STATEMENT_FIELDS}
    form = StatementForm(request.POST or None, initial={**initial, "version": statement.version})
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            services.statement_update(
                actor=_actor(request),
                statement=statement,
                expected_version=form.cleaned_data.get("version"),
                **form.service_fields(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except EditConflict as exc:
            conflict = True
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The statements of %(year)s were saved.") % {"year": statement.year})
            return redirect("finance:company_solvency", pk=statement.company_id)
    return _statement_form_page(
        request, statement.company_id, form, statement, status=409 if conflict else 200
    )


@require("companies.view_company")
@follows_merged
def statement_import(request: HttpRequest, pk: int) -> HttpResponse:
    """D4: import the statements from a CSV/XLSX file; all or nothing, errors name the line and column."""
    company = access_company_by_id(request.user, pk)
    ensure(request.user, CHANGE, company)
    form = StatementImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.statement_import(
                actor=_actor(request), company=company, data=upload.read(), filename=upload.name
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, result.message)
            return redirect("finance:company_solvency", pk=company.pk)
    return render_dossier(request, company.pk, "solvency", "finance/solvency_import.html", form=form)


urlpatterns = [
    path("company/<int:pk>/solvency/", company_solvency, name="company_solvency"),
    path("company/<int:pk>/solvency/statements/new/", statement_add, name="solvency_statement_add"),
    path("company/<int:pk>/solvency/import/", statement_import, name="solvency_import"),
    path("solvency/statements/<int:pk>/edit/", statement_edit, name="solvency_statement_edit"),
]

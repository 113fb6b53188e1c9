"""Pages of a client's contracts and their obligations (D5).

Every member of the department reads them (R3); the client's curator, the owners of its deals and the head of
sales keep them (``finance.change_contract``). Overdue obligations are flagged,
ours as loudly as the client's.
Reads go through kurator.finance.selectors.contracts, writes through kurator.finance.services.contracts.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kurator.access.decorators import ensure, require
from kurator.access.policy import can
from kurator.access.scoping import access_company_by_id
from kurator.accounts.models import User
from kurator.companies.views import follows_merged, render_dossier
from kurator.core.errors import EditConflict
from kurator.core.forms import apply_service_errors
from kurator.finance.forms.contracts import ContractForm, DoneForm, ObligationForm, StatusForm
from kurator.finance.models import Contract, Obligation, ObligationParty
from kurator.finance.selectors import contracts as selectors
from kurator.finance.services import contracts as services

VIEW = "finance.view_contract"
CHANGE = "finance.change_contract"


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _contract(request: HttpRequest, pk: int) -> Contract:
    return selectors.contract_get(actor=_actor(request), contract_id=pk)


# The dossier tab ------------------------------------------------------------------------------------------


@require(VIEW)
@follows_merged
def company_contracts(request: HttpRequest, pk: int) -> HttpResponse:
    """The dossier's Contracts tab (D5): every contract of the client with its status, dates, terms and the
    number of its overdue obligations (ours and the client's alike)."""
    company = access_company_by_id(request.user, pk)
    contracts = selectors.company_contracts(actor=_actor(request), company=company)
    return render_dossier(
        request,
        pk,
        "contracts",
        "finance/contracts_tab.html",
        contracts=contracts,
        overdue_total=sum(getattr(c, "overdue_obligations", 0) for c in contracts),
        may_add=can(request.user, CHANGE, company),
    )


# A contract -----------------------------------------------------------------------------------------------


@require(VIEW)
def contract_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A new contract with the client ``pk``; ``?deal=<id>`` ties it to one of the client's deals."""
    company = access_company_by_id(request.user, pk)
    if company.pk != pk:
        return redirect(reverse("finance:contract_create", args=[company.pk]))
    ensure(request.user, CHANGE, company)
    initial: dict[str, Any] = {}
    deal_id = request.GET.get("deal") or ""
    if deal_id.isdigit():
        initial["deal"] = int(deal_id)
    form = ContractForm(request.POST or None, company=company, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_create(
                actor=_actor(request), company=company, **form.service_fields()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request, _("The contract %(number)s was registered.") % {"number": contract.number}
            )
            return redirect("finance:contract_detail", pk=contract.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "finance/contracts_form.html",
        {"form": form, "company": company, "contract": None},
        status=status,
    )


@require(VIEW)
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a contract's terms, dates and status; a colleague's change in between is an edit conflict."""
    contract = _contract(request, pk)
    ensure(request.user, CHANGE, contract)
    form = ContractForm(request.POST or None, company=contract.company, contract=contract)
    conflict = False
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.contract_update(
                    actor=_actor(request),
                    contract=contract,
                    expected_version=form.cleaned_data.get("version"),
                    **form.service_fields(),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            except EditConflict as exc:
                conflict = True
                status = 409
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("The contract was saved."))
                return redirect("finance:contract_detail", pk=contract.pk)
    return render(
        request,
        "finance/contracts_form.html",
        {"form": form, "company": contract.company, "contract": contract, "conflict": conflict},
        status=status,
    )


def _detail_context(
    request: HttpRequest, contract: Contract, obligation_form: ObligationForm | None = None
) -> dict[str, Any]:
    may_change = can(request.user, CHANGE, contract)
    obligations = selectors.contract_obligations(contract=contract)
    today = timezone.localdate()
    late = [o for o in obligations if o.done_on is None and o.due_on < today]
    for obligation in late:
        setattr(obligation, "overdue", True)  # noqa: B010  # read by the template
    return {
        "contract": contract,
        "company": contract.company,
        "obligations": obligations,
        # Ours are counted and flagged exactly like the client's (D5).
        "overdue_ours": sum(1 for o in late if o.party == ObligationParty.OURS),
        "overdue_client": sum(1 for o in late if o.party == ObligationParty.CLIENT),
        "links": selectors.contract_links(contract=contract),
        "history": selectors.contract_history(contract=contract),
        "may_change": may_change,
        "obligation_form": obligation_form or (ObligationForm(prefix="new") if may_change else None),
        "status_form": StatusForm(initial={"status": contract.status, "version": contract.version})
        if may_change
        else None,
        "today": today,
    }


@require(VIEW)
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A contract (D5): its terms and dates, the obligations of both sides with the overdue ones flagged,
    the orders and invoices under it, and its history of changes."""
    contract = _contract(request, pk)
    return render(request, "finance/contracts_detail.html", _detail_context(request, contract))


@require(VIEW)
@require_POST
def contract_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a contract to another status; the step's date is today unless given (D5)."""
    contract = _contract(request, pk)
    ensure(request.user, CHANGE, contract)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("finance:contract_detail", pk=contract.pk)
    try:
        contract = services.contract_set_status(
            actor=_actor(request),
            contract=contract,
            status=form.cleaned_data["status"],
            on=form.cleaned_data.get("on"),
            expected_version=form.cleaned_data.get("version"),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except EditConflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("The contract is now: %(status)s.") % {"status": contract.get_status_display()}
        )
    return redirect("finance:contract_detail", pk=contract.pk)


# Obligations ----------------------------------------------------------------------------------------------


@require(VIEW)
@require_POST
def obligation_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an obligation of either side to the contract."""
    contract = _contract(request, pk)
    ensure(request.user, CHANGE, contract)
    form = ObligationForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            services.obligation_create(actor=_actor(request), contract=contract, **form.service_fields())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The obligation was added."))
            return redirect(reverse("finance:contract_detail", args=[contract.pk]) + "#obligations")
    return render(
        request,
        "finance/contracts_detail.html",
        _detail_context(request, contract, obligation_form=form),
        status=400,
    )


def _obligation(request: HttpRequest, pk: int) -> Obligation:
    return selectors.obligation_get(actor=_actor(request), obligation_id=pk)


@require(VIEW)
def obligation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit an obligation (what, whose, due date, who answers for it)."""
    obligation = _obligation(request, pk)
    ensure(request.user, CHANGE, obligation.contract)
    form = ObligationForm(request.POST or None, obligation=obligation)
    conflict = False
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.obligation_update(
                    actor=_actor(request),
                    obligation=obligation,
                    expected_version=form.cleaned_data.get("version"),
                    **form.service_fields(),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            except EditConflict as exc:
                conflict = True
                status = 409
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("The obligation was saved."))
                return redirect(
                    reverse("finance:contract_detail", args=[obligation.contract_id]) + "#obligations"
                )
    return render(
        request,
        "finance/contracts_obligation_form.html",
        {
            "form": form,
            "obligation": obligation,
            "contract": obligation.contract,
            "company": obligation.contract.company,
            "conflict": conflict,
        },
        status=status,
    )


def _obligation_step(request: HttpRequest, pk: int, done: bool) -> HttpResponse:
    obligation = _obligation(request, pk)
    ensure(request.user, CHANGE, obligation.contract)
    form = DoneForm(request.POST)
    back = reverse("finance:contract_detail", args=[obligation.contract_id]) + "#obligations"
    if not form.is_valid():
        messages.error(request, _("Enter a valid date."))
        return redirect(back)
    version = form.cleaned_data.get("version")
    try:
        if done:
            services.obligation_mark_done(
                actor=_actor(request),
                obligation=obligation,
                done_on=form.cleaned_data.get("done_on"),
                expected_version=version,
            )
            messages.success(request, _("Marked done: %(what)s.") % {"what": obligation.description})
        else:
            services.obligation_reopen(actor=_actor(request), obligation=obligation, expected_version=version)
            messages.success(request, _("Reopened: %(what)s.") % {"what": obligation.description})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except EditConflict as exc:
        messages.error(request, str(exc.message))
    return redirect(back)


@require(VIEW)
@require_POST
def obligation_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark an obligation done (today unless another day is given)."""
    return _obligation_step(request, pk, done=True)


@require(VIEW)
@require_POST
def obligation_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """Take back a "done" mark."""
    return _obligation_step(request, pk, done=False)


urlpatterns = [
    path("company/<int:pk>/contracts/", company_contracts, name="company_contracts"),
    path("company/<int:pk>/contracts/new/", contract_create, name="contract_create"),
    path("contracts/<int:pk>/", contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", contract_edit, name="contract_edit"),
    path("contracts/<int:pk>/status/", contract_status, name="contract_status"),
    path("contracts/<int:pk>/obligations/", obligation_add, name="obligation_add"),
    path("obligations/<int:pk>/edit/", obligation_edit, name="obligation_edit"),
    path("obligations/<int:pk>/done/", obligation_done, name="obligation_done"),
    path("obligations/<int:pk>/reopen/", obligation_reopen, name="obligation_reopen"),
]

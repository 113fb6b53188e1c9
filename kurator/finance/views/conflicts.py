"""Pages of the register of conflicts with a client (D7).

Every member of the department reads them (R3); the head of sales, finance and whoever works with the client
register and resolve them (``finance.change_conflict``). Open conflicts show on the dossier header
(``finance_ui.open_conflicts``). Reads go through kurator.finance.selectors.conflicts, writes through
kurator.finance.services.conflicts.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kurator.access.decorators import ensure, require
from kurator.access.policy import can
from kurator.access.scoping import access_company_by_id
from kurator.accounts.models import User
from kurator.companies.views import follows_merged, render_dossier
from kurator.core.errors import EditConflict
from kurator.core.forms import apply_service_errors
from kurator.finance.forms.conflicts import ConflictForm, ResolveForm
from kurator.finance.models import OPEN_CONFLICT_STATUSES, Conflict
from kurator.finance.selectors import conflicts as selectors
from kurator.finance.services import conflicts as services

VIEW = "finance.view_conflict"
CHANGE = "finance.change_conflict"


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _conflict(request: HttpRequest, pk: int) -> Conflict:
    return selectors.conflict_get(actor=_actor(request), conflict_id=pk)


@require(VIEW)
@follows_merged
def company_conflicts(request: HttpRequest, pk: int) -> HttpResponse:
    """The dossier's Conflicts tab (D7): open and in-progress ones first, the most severe first."""
    company = access_company_by_id(request.user, pk)
    conflicts = selectors.company_conflicts(actor=_actor(request), company=company)
    return render_dossier(
        request,
        pk,
        "conflicts",
        "finance/conflicts_tab.html",
        conflicts=conflicts,
        open_count=sum(1 for c in conflicts if c.status in OPEN_CONFLICT_STATUSES),
        may_add=can(request.user, CHANGE, company),
    )


@require(VIEW)
def conflict_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Register a conflict with the client ``pk``."""
    company = access_company_by_id(request.user, pk)
    if company.pk != pk:
        return redirect(reverse("finance:conflict_create", args=[company.pk]))
    ensure(request.user, CHANGE, company)
    form = ConflictForm(request.POST or None, company=company)
    if request.method == "POST" and form.is_valid():
        try:
            conflict = services.conflict_create(
                actor=_actor(request), company=company, **form.service_fields()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The conflict was registered."))
            return redirect("finance:conflict_detail", pk=conflict.pk)
    return render(
        request,
        "finance/conflicts_form.html",
        {"form": form, "company": company, "conflict": None},
        status=400 if request.method == "POST" else 200,
    )


@require(VIEW)
def conflict_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a conflict; a colleague's change in between is an edit conflict (409)."""
    conflict = _conflict(request, pk)
    ensure(request.user, CHANGE, conflict)
    form = ConflictForm(request.POST or None, company=conflict.company, conflict=conflict)
    clash = False
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.conflict_update(
                    actor=_actor(request),
                    conflict=conflict,
                    expected_version=form.cleaned_data.get("version"),
                    **form.service_fields(),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            except EditConflict as exc:
                clash = True
                status = 409
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("The conflict was saved."))
                return redirect("finance:conflict_detail", pk=conflict.pk)
    return render(
        request,
        "finance/conflicts_form.html",
        {"form": form, "company": conflict.company, "conflict": conflict, "clash": clash},
        status=status,
    )


def _detail(
    request: HttpRequest, conflict: Conflict, resolve_form: ResolveForm | None = None
) -> dict[str, Any]:
    may_change = can(request.user, CHANGE, conflict)
    return {
        "conflict": conflict,
        "company": conflict.company,
        "history": selectors.conflict_history(conflict=conflict),
        "may_change": may_change,
        "resolve_form": resolve_form
        or (ResolveForm(initial={"version": conflict.version}) if may_change else None),
    }


@require(VIEW)
def conflict_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A conflict (D7): what happened, the people of both sides, the links, the resolution, the history."""
    conflict = _conflict(request, pk)
    return render(request, "finance/conflicts_detail.html", _detail(request, conflict))


@require(VIEW)
def conflict_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Resolve a conflict: how and when (not before it occurred). GET shows the form."""
    conflict = _conflict(request, pk)
    ensure(request.user, CHANGE, conflict)
    form = ResolveForm(request.POST or None, initial={"version": conflict.version})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.conflict_resolve(
                    actor=_actor(request),
                    conflict=conflict,
                    resolution=form.cleaned_data.get("resolution") or "",
                    resolved_on=form.cleaned_data.get("resolved_on"),
                    expected_version=form.cleaned_data.get("version"),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            except EditConflict as exc:
                status = 409
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("The conflict is resolved."))
                return redirect("finance:conflict_detail", pk=conflict.pk)
    return render(request, "finance/conflicts_resolve.html", _detail(request, conflict, form), status=status)


@require(VIEW)
@require_POST
def conflict_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a resolved conflict again."""
    conflict = _conflict(request, pk)
    ensure(request.user, CHANGE, conflict)
    try:
        services.conflict_reopen(
            actor=_actor(request), conflict=conflict, expected_version=_int(request.POST.get("version"))
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except EditConflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The conflict is open again."))
    return redirect("finance:conflict_detail", pk=conflict.pk)


def _int(value: Any) -> int | None:
    return int(value) if str(value or "").isdigit() else None


urlpatterns = [
    path("company/<int:pk>/conflicts/", company_conflicts, name="company_conflicts"),
    path("company/<int:pk>/conflicts/new/", conflict_create, name="conflict_create"),
    path("conflicts/<int:pk>/", conflict_detail, name="conflict_detail"),
    path("conflicts/<int:pk>/edit/", conflict_edit, name="conflict_edit"),
    path("conflicts/<int:pk>/resolve/", conflict_resolve, name="conflict_resolve"),
    path("conflicts/<int:pk>/reopen/", conflict_reopen, name="conflict_reopen"),
]

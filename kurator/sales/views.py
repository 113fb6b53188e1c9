"""Pages of the sales pipeline (S3): the board, the list, a deal, the pipeline settings and the funnel.

Every member of the department reads every deal (R3); a deal is moved and edited by its owner, co-owner or the
head of sales, and a move forward is refused until the next stage's standard is met (R1) — the head of sales
may override with a reason. Reads go through kurator.sales.selectors, writes through kurator.sales.services.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Prefetch, Value, When
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kurator.access.decorators import ensure, require
from kurator.access.policy import can
from kurator.access.scoping import access_company_by_id, curator_candidates
from kurator.accounts.models import User
from kurator.companies.views import follows_merged, render_dossier
from kurator.core.errors import EditConflict
from kurator.core.forms import apply_service_errors
from kurator.core.pagination import FewRowsPaginator
from kurator.sales import reports, selectors, services
from kurator.sales.forms import (
    DEFAULT_STATUS,
    SORTS,
    ChecklistItemForm,
    DealFilterForm,
    DealForm,
    FunnelForm,
    MoveForm,
    PipelineForm,
    StageForm,
)
from kurator.sales.models import ChecklistItem, Deal, Pipeline, Stage, StageKind
from kurator.sales.standards import StandardsNotMet, Unmet, stage_standard_summary, unmet_standards

DEALS_PER_PAGE = 25
TIMELINE_ENTRIES = 50


def _actor(request: HttpRequest) -> User:
    # Every view below is behind @require, so the user is a signed-in member.
    return cast(User, request.user)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _pipeline_from(request: HttpRequest, pipelines: list[Pipeline]) -> Pipeline | None:
    chosen = request.GET.get("pipeline") or ""
    if chosen.isdigit():
        for pipeline in pipelines:
            if pipeline.pk == int(chosen):
                return pipeline
    default = next((p for p in pipelines if p.is_default), None)
    return default or (pipelines[0] if pipelines else None)


def _deal(request: HttpRequest, pk: int) -> Deal:
    return selectors.deal_get(actor=_actor(request), deal_id=pk)


def _move_stages(pipeline: Pipeline) -> list[Stage]:
    return sorted((s for s in pipeline.stages.all() if s.is_active), key=lambda s: (s.order, s.pk))


# The board ------------------------------------------------------------------------------------------------


_URL_ID = 987654321


@require("sales.view_deal")
def deal_board(request: HttpRequest) -> HttpResponse:
    """The board: a column per stage of the chosen pipeline, with counts and totals (S3). Everyone sees every
    deal (R3); "only mine" narrows to the deals one owns or co-owns."""
    me = _actor(request)
    pipelines = list(selectors.pipelines_with_stages(actor=me))
    pipeline = _pipeline_from(request, pipelines)
    mine = request.GET.get("mine") == "1"
    columns = (
        selectors.deal_board(actor=me, pipeline=pipeline, owner=me if mine else None) if pipeline else []
    )
    stages = _move_stages(pipeline) if pipeline else []
    # The entry standard of each stage in words, for the column's tooltip (stages and checklists prefetched).
    standards = {s.pk: stage_standard_summary(s) for s in stages}
    # The cards' links, by the id put into one reversed URL (one reverse per kind instead of one per card).
    detail_url = reverse("sales:detail", args=[_URL_ID]).replace(str(_URL_ID), "{}")
    move_url = reverse("sales:move", args=[_URL_ID]).replace(str(_URL_ID), "{}")
    for column in columns:
        setattr(column, "standard", standards.get(column.stage.pk, []))  # noqa: B010
        for card in column.cards:
            # Shown on the card: whether the actor may move it (its "Move to…" link opens the move page, where
            # the stages are listed: one list per card made the board's HTML a quarter of a megabyte).
            setattr(card, "can_move", can(me, "sales.change_deal", card))  # noqa: B010
            setattr(card, "detail_url", detail_url.format(card.pk))  # noqa: B010
            setattr(card, "move_url", move_url.format(card.pk))  # noqa: B010
    context = {
        "pipelines": pipelines,
        "pipeline": pipeline,
        "columns": columns,
        "mine": mine,
        "here": quote(request.get_full_path(), safe=""),
        "can_override": can(me, "sales.override_standard"),
        "can_manage": can(me, "sales.manage_pipelines"),
    }
    return render(request, "sales/board.html", context)


# The list -------------------------------------------------------------------------------------------------


@require("sales.view_deal")
def deal_list(request: HttpRequest) -> HttpResponse:
    """All deals with filters (pipeline, stage, owner, status, search, expected close), sorting and pages."""
    me = _actor(request)
    pipelines = list(selectors.pipelines_with_stages(actor=me))
    owners = curator_candidates()
    form = DealFilterForm(request.GET or None, pipelines=pipelines, owners=owners)
    values = form.values()
    sort = values.get("sort") or "created"
    filters = {k: v for k, v in values.items() if k != "sort"}
    deals = selectors.deal_list(actor=me, filters={**filters, "sort": sort})
    if form.is_bound and form.errors:
        deals = deals.none()
    page = FewRowsPaginator(deals, DEALS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "query": query.urlencode(),
        "sort": sort,
        "sorts": SORTS,
        # The default status (open deals) is not a filter the reader chose.
        "filtered": any(k != "status" or v != DEFAULT_STATUS for k, v in filters.items())
        or bool(form.errors),
        "me": me,
    }
    return render(request, "sales/deal_list.html", context)


# A deal ---------------------------------------------------------------------------------------------------


def _deal_form_extra(request: HttpRequest) -> dict[str, Any]:
    with_co_owner = can(request.user, "sales.override_standard")  # the head of sales names co-owners
    return {"with_co_owner": with_co_owner, "co_owners": curator_candidates() if with_co_owner else None}


@require("sales.view_deal")
def deal_create(request: HttpRequest) -> HttpResponse:
    """A new deal for a client (``?company=<id>``); its owner is the client's curator (R2)."""
    company_id = request.GET.get("company") or request.POST.get("company")
    if not company_id:
        messages.info(request, _("Open the client's dossier and start the deal from its Deals tab."))
        return redirect("companies:list")
    company = access_company_by_id(request.user, company_id)
    ensure(request.user, "sales.add_deal", company)
    form = DealForm(request.POST or None, company=company, **_deal_form_extra(request))
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.deal_create(actor=_actor(request), company=company, **form.service_fields())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The deal “%(title)s” was opened.") % {"title": deal.title})
            return redirect("sales:detail", pk=deal.pk)
    return render(request, "sales/deal_form.html", {"form": form, "company": company, "deal": None})


@require("sales.view_deal")
def deal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a deal (owner, co-owner, head of sales); a colleague's change in between is a conflict."""
    deal = _deal(request, pk)
    ensure(request.user, "sales.change_deal", deal)
    form = DealForm(request.POST or None, company=deal.company, deal=deal, **_deal_form_extra(request))
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            services.deal_update(
                actor=_actor(request),
                deal=deal,
                expected_version=form.cleaned_data.get("version"),
                **form.service_fields(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except EditConflict as exc:
            conflict = True
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The deal was saved."))
            return redirect("sales:detail", pk=deal.pk)
    return render(
        request,
        "sales/deal_form.html",
        {"form": form, "company": deal.company, "deal": deal, "conflict": conflict},
        status=409 if conflict else 200,
    )


def _next_stage(deal: Deal, stages: list[Stage]) -> Stage | None:
    if deal.stage.kind != StageKind.OPEN:
        return None
    return next((s for s in stages if s.order > deal.stage.order and s.kind != StageKind.LOST), None)


def _timeline(request: HttpRequest, deal: Deal) -> tuple[bool, list[Any]]:
    """The deal's contact history (D3), once the activities helper provides it."""
    try:
        from kurator.activities.selectors import activity_timeline

        get_template("activities/_timeline.html")
    except (ImportError, TemplateDoesNotExist):
        return False, []
    return True, list(activity_timeline(actor=_actor(request), deal=deal)[:TIMELINE_ENTRIES])


def _deal_context(request: HttpRequest, deal: Deal, move_form: MoveForm | None = None) -> dict[str, Any]:
    me = _actor(request)
    stages = list(
        Stage.objects.filter(pipeline_id=deal.pipeline_id, is_active=True)
        .prefetch_related(
            Prefetch(
                "checklist", queryset=ChecklistItem.objects.filter(is_active=True).order_by("order", "id")
            )
        )
        .order_by("order", "id")
    )
    may_move = can(me, "sales.change_deal", deal)
    next_stage = _next_stage(deal, stages)
    ticked = {
        # Prefetched with their authors by selectors.deal_get.
        mark.item_id: mark
        for mark in deal.checklist_marks.all()
    }
    timeline_ready, entries = _timeline(request, deal)
    return {
        "deal": deal,
        "company": deal.company,
        "stages": stages,
        "progress": [s for s in stages if s.kind != StageKind.LOST],
        "lost_stages": [s for s in stages if s.kind == StageKind.LOST],
        "next_stage": next_stage,
        "next_unmet": unmet_standards(deal, next_stage) if next_stage else [],
        "next_summary": stage_standard_summary(next_stage) if next_stage else [],
        "checklists": [
            (s, [(item, ticked.get(item.pk)) for item in s.checklist.all()])
            for s in stages
            if s.checklist.all()
        ],
        "history": selectors.deal_stage_history(deal=deal),
        "contacts": list(deal.contacts.all()),
        "may_move": may_move,
        "may_edit": may_move,
        "can_override": can(me, "sales.override_standard"),
        "may_log": can(me, "activities.add_activity", deal),
        "move_form": move_form
        or (MoveForm(deal=deal, stages=[s for s in stages if s.pk != deal.stage_id]) if may_move else None),
        "timeline_ready": timeline_ready,
        "entries": entries,
    }


@require("sales.view_deal")
def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A deal: stage progress, standards of the next stage (met or not), checklist, stage history with time
    per stage and overrides, and the contact history (S3, R1, R3)."""
    deal = _deal(request, pk)
    return render(request, "sales/deal_detail.html", _deal_context(request, deal))


def _unmet_payload(unmet: list[Unmet]) -> list[dict[str, str]]:
    return [u.as_dict() for u in unmet]


def _after_move(request: HttpRequest, deal: Deal, where: str) -> HttpResponse:
    if where.startswith("/") and url_has_allowed_host_and_scheme(where, allowed_hosts={request.get_host()}):
        return redirect(where)
    return redirect("sales:detail", pk=deal.pk)


@require("sales.view_deal")
def deal_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a deal to a stage (S3, R1). POST from the board (drag-and-drop, JSON answer) or from a plain form
    (the board's "Move to…" control, the deal page): refused with the list of what is missing when the
    standard is not met; the head of sales may override with a reason; a stale version is a conflict.
    GET shows the move page: the chosen stage's unmet standards and the form."""
    deal = _deal(request, pk)
    ensure(request.user, "sales.change_deal", deal)
    me = _actor(request)
    stages = [s for s in _move_stages(deal.pipeline) if s.pk != deal.stage_id]
    json = _wants_json(request)
    unmet: list[Unmet] = []
    target: Stage | None = None
    conflict = False
    status = 200
    if request.method == "POST":
        form = MoveForm(request.POST, deal=deal, stages=stages)
        if form.is_valid():
            data = form.cleaned_data
            target = data["stage"]
            try:
                deal = services.deal_move(
                    actor=me,
                    deal=deal,
                    stage=data["stage"],
                    expected_version=data.get("version"),
                    override_reason=data.get("override_reason") or "",
                    lost_reason=data.get("lost_reason"),
                    lost_note=data.get("lost_note") or "",
                )
            except StandardsNotMet as exc:
                unmet = list(exc.unmet)
                status = 400
                if json:
                    return JsonResponse(
                        {
                            "unmet": _unmet_payload(unmet),
                            "can_override": can(me, "sales.override_standard"),
                            "stage": data["stage"].name,
                        },
                        status=400,
                    )
            except EditConflict:
                conflict = True
                status = 409
                if json:
                    return JsonResponse({"conflict": _conflict_text()}, status=409)
            except ValidationError as exc:
                apply_service_errors(form, exc)
                status = 400
            else:
                if json:
                    return JsonResponse({"id": deal.pk, "stage": deal.stage_id, "version": deal.version})
                messages.success(
                    request,
                    _("“%(title)s” moved to %(stage)s.") % {"title": deal.title, "stage": deal.stage.name},
                )
                return _after_move(request, deal, data.get("next") or "")
        else:
            status = 400
        if json:
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    else:
        chosen = request.GET.get("stage") or ""
        target = next((s for s in stages if str(s.pk) == chosen), None)
        form = MoveForm(
            deal=deal,
            stages=stages,
            initial={"stage": target.pk if target else None, "next": request.GET.get("next") or ""},
        )
        if target is not None:
            unmet = unmet_standards(deal, target)
    context = _deal_context(request, deal, move_form=form)
    context.update(unmet=unmet, unmet_target=target, conflict=conflict, conflict_text=_conflict_text())
    return render(request, "sales/deal_move.html", context, status=status)


def _conflict_text() -> str:
    return _("Someone moved or changed this deal after you opened it. Reload the page and try again.")


@require("sales.view_deal")
@require_POST
def deal_check_item(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick or untick a checklist item of the deal (R1)."""
    deal = _deal(request, pk)
    ensure(request.user, "sales.change_deal", deal)
    item = ChecklistItem.objects.filter(
        pk=request.POST.get("item") or 0, stage__pipeline_id=deal.pipeline_id
    ).first()
    if item is None:
        raise Http404
    try:
        services.deal_check_item(
            actor=_actor(request), deal=deal, item=item, done=request.POST.get("done") == "1"
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(reverse("sales:detail", args=[deal.pk]) + "#checklist")


# The dossier tab ------------------------------------------------------------------------------------------


@require("sales.view_deal")
@follows_merged
def company_deals(request: HttpRequest, pk: int) -> HttpResponse:
    """The dossier's Deals tab: the client's deals, open first (R3: everyone reads them)."""
    company = access_company_by_id(request.user, pk)
    open_first = Case(
        When(stage__kind=StageKind.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    deals = list(
        selectors.deal_list(actor=_actor(request), filters={"company": company.pk}).order_by(
            open_first, "-created_at", "-id"
        )[:200]
    )
    return render_dossier(
        request,
        pk,
        "deals",
        "sales/company_deals.html",
        deals=deals,
        may_add=can(request.user, "sales.add_deal", company),
    )


# Pipeline settings (R1) -----------------------------------------------------------------------------------


def _lost_reasons_url() -> str | None:
    from kurator.companies import services as company_services

    for kind, model in company_services.DICTIONARIES.items():
        if model.__name__ == "LostReason":
            return reverse("companies:dictionary", args=[kind])
    return None


@require("sales.manage_pipelines")
def pipelines(request: HttpRequest) -> HttpResponse:
    """The pipelines and their stages with each stage's standard in words (R1)."""
    items = list(
        Pipeline.objects.prefetch_related(
            Prefetch("stages", queryset=Stage.objects.order_by("order", "id").prefetch_related("checklist"))
        ).order_by("position", "id")
    )
    rows = [(p, [(s, stage_standard_summary(s)) for s in p.stages.all()]) for p in items]
    return render(request, "sales/pipelines.html", {"rows": rows, "lost_reasons_url": _lost_reasons_url()})


@require("sales.manage_pipelines")
def pipeline_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or edit a pipeline; its stages in order."""
    pipeline = None
    if pk is not None:
        pipeline = Pipeline.objects.filter(pk=pk).first()
        if pipeline is None:
            raise Http404
    form = PipelineForm(request.POST or None, pipeline=pipeline)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.pipeline_save(actor=_actor(request), pipeline=pipeline, **form.service_fields())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The pipeline “%(name)s” was saved.") % {"name": saved.name})
            return redirect("sales:pipeline_edit", pk=saved.pk)
    stages: list[tuple[Stage, list[str]]] = []
    if pipeline is not None:
        stages = [
            (s, stage_standard_summary(s))
            for s in pipeline.stages.order_by("order", "id").prefetch_related("checklist")
        ]
    return render(request, "sales/pipeline_form.html", {"form": form, "pipeline": pipeline, "stages": stages})


@require("sales.manage_pipelines")
def stage_edit(request: HttpRequest, pipeline_pk: int, pk: int | None = None) -> HttpResponse:
    """Create or edit a stage and its entry standard (R1); its checklist items."""
    pipeline = Pipeline.objects.filter(pk=pipeline_pk).first()
    if pipeline is None:
        raise Http404
    stage = None
    if pk is not None:
        stage = Stage.objects.filter(pk=pk, pipeline=pipeline).first()
        if stage is None:
            raise Http404
    form = StageForm(request.POST or None, stage=stage)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.stage_save(
                actor=_actor(request), pipeline=pipeline, stage=stage, **form.service_fields()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The stage “%(name)s” was saved.") % {"name": saved.name})
            return redirect("sales:stage_edit", pipeline_pk=pipeline.pk, pk=saved.pk)
    items = list(stage.checklist.order_by("order", "id")) if stage is not None else []
    return render(
        request,
        "sales/stage_form.html",
        {
            "form": form,
            "pipeline": pipeline,
            "stage": stage,
            "items": items,
            "item_form": ChecklistItemForm(),
        },
    )


@require("sales.manage_pipelines")
@require_POST
def stage_order(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a stage one place up or down in its pipeline."""
    stage = Stage.objects.filter(pk=pk).first()
    if stage is None:
        raise Http404
    siblings = list(Stage.objects.filter(pipeline_id=stage.pipeline_id).order_by("order", "id"))
    index = siblings.index(stage)
    step = -1 if request.POST.get("direction") == "up" else 1
    if 0 <= index + step < len(siblings):
        try:
            services.stage_move_order(actor=_actor(request), stage=stage, order=index + step + 1)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("sales:pipeline_edit", pk=stage.pipeline_id)


@require("sales.manage_pipelines")
@require_POST
def checklist_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a checklist item to a stage."""
    stage = Stage.objects.select_related("pipeline").filter(pk=pk).first()
    if stage is None:
        raise Http404
    form = ChecklistItemForm(request.POST)
    if form.is_valid():
        try:
            services.checklist_item_save(actor=_actor(request), stage=stage, text=form.cleaned_data["text"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The checklist item was added."))
            return redirect("sales:stage_edit", pipeline_pk=stage.pipeline_id, pk=stage.pk)
    return render(
        request,
        "sales/stage_form.html",
        {
            "form": StageForm(stage=stage),
            "pipeline": stage.pipeline,
            "stage": stage,
            "items": list(stage.checklist.order_by("order", "id")),
            "item_form": form,
        },
        status=400,
    )


@require("sales.manage_pipelines")
@require_POST
def checklist_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate a checklist item: deals keep their ticks, new moves no longer ask for it."""
    item = ChecklistItem.objects.select_related("stage").filter(pk=pk).first()
    if item is None:
        raise Http404
    services.checklist_item_deactivate(actor=_actor(request), item=item)
    messages.success(request, _("“%(text)s” was deactivated.") % {"text": item.text})
    return redirect("sales:stage_edit", pipeline_pk=item.stage.pipeline_id, pk=item.stage_id)


# The funnel -----------------------------------------------------------------------------------------------


@require("sales.view_funnel")
def funnel(request: HttpRequest) -> HttpResponse:
    """The funnel for a period: entries per stage, conversion, days per stage, win rates (S3)."""
    form = FunnelForm(request.GET or None)
    period = form.period()
    pipeline = form.pipeline()
    report = reports.funnel_report(
        actor=_actor(request), date_from=period.date_from, date_to=period.date_to, pipeline=pipeline
    )
    if not form.is_bound:
        form = FunnelForm(
            initial={"from": period.date_from, "to": period.date_to, "pipeline": report.pipeline.pk}
        )
    return render(
        request,
        "sales/funnel.html",
        {"form": form, "period": period, "report": report, "chart": report.chart()},
    )

"""Pages of the contact history (D3), tasks, "My day" and the calendar feed.

Every view names its permission with ``@require``; object rights (only the author or the head of sales edits
an entry) are checked with ``ensure`` once the object is loaded. Reads go through
kurator.activities.selectors, writes through kurator.activities.services.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kurator.access.decorators import ensure, require
from kurator.access.policy import can
from kurator.access.scoping import (
    access_deal_by_id,
    access_task_by_id,
    curator_candidates,
)
from kurator.accounts.models import User
from kurator.activities import selectors, services
from kurator.activities.forms import ActivityForm, TaskForm
from kurator.activities.models import Activity, ActivityKind, Task
from kurator.companies import selectors as company_selectors
from kurator.companies.models import Company, Contact
from kurator.companies.views import follows_merged, render_dossier
from kurator.core.errors import EditConflict
from kurator.core.forms import apply_service_errors
from kurator.core.pagination import FewRowsPaginator
from kurator.sales.models import Deal

TASKS_PER_PAGE = 50


def _actor(request: HttpRequest) -> User:
    # Every view below is behind @require, so the user is a signed-in member.
    return cast(User, request.user)


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return str(target)
    return None


def deal_url(deal_id: int) -> str | None:
    """The deal page, once the pipeline pages exist (built elsewhere); None while they do not."""
    try:
        return reverse("sales:detail", args=[deal_id])
    except NoReverseMatch:
        return None


def _back_url(company_id: int, deal_id: int | None) -> str:
    """Where a contact logged or edited leads back to: its deal's page when there is one, else the client's
    timeline."""
    if deal_id is not None:
        url = deal_url(deal_id)
        if url:
            return url
    return reverse("activities:company_timeline", args=[company_id])


# Contact history -----------------------------------------------------------------------------------------


@require("activities.view_activity")
@follows_merged
def company_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The dossier's contact history: one timeline of every contact with the client (D3, R3), filtered by
    kind and by person (``?kind=``, ``?contact=`` one of the client's people, ``?user=`` one of ours)."""
    actor = _actor(request)
    company = Company.objects.filter(pk=pk).only("pk", "curator_id").first()
    if company is None:
        raise Http404
    kind = request.GET.get("kind") or ""
    kind = kind if kind in ActivityKind.values else ""
    contacts = list(
        Contact.objects.filter(company=pk).order_by("-is_active", "full_name").only("pk", "full_name")
    )
    contact = _int(request.GET.get("contact"))
    contact = contact if contact in {c.pk for c in contacts} else None
    user = _int(request.GET.get("user"))
    # "Ours" offers the people who wrote or took part in this client's contacts (leavers included: what did
    # the old curator do?), not the whole department: shorter to pick from, and 200 options cost 11 ms.
    worked = Q(pk__in=Activity.objects.filter(company=pk).values("author_id")) | Q(
        pk__in=Activity.users.through.objects.filter(activity__company=pk).values("user_id")
    )
    users = list(
        User.objects.filter(worked | Q(pk=user or 0))
        .order_by("last_name", "first_name", "id")
        .only("pk", "username", "last_name", "first_name", "patronymic")
    )
    qs = selectors.activity_timeline(actor=actor, company=pk, kind=kind or None, contact=contact, user=user)
    page = FewRowsPaginator(qs, selectors.TIMELINE_PER_PAGE).get_page(request.GET.get("page"))
    entries = list(page.object_list)
    tasks = list(selectors.task_list(actor=actor, company=pk)[:10])
    return render_dossier(
        request,
        pk,
        "timeline",
        "activities/company_timeline.html",
        page=page,
        show_company=False,
        can_log=can(actor, "activities.add_activity", company),
        can_add_task=can(actor, "activities.add_task"),
        kinds=ActivityKind.choices,
        filter_contacts=contacts,
        filter_users=users,
        filters={"kind": kind, "contact": contact, "user": user},
        filtered=bool(kind or contact or user),
        open_tasks=tasks,
        entries=entries,
    )


def _company_and_deal(request: HttpRequest, company_id: Any, deal_id: Any) -> tuple[Company, Deal | None]:
    deal: Deal | None = None
    if deal_id not in (None, ""):
        deal = access_deal_by_id(request.user, deal_id)
        if company_id in (None, ""):
            company_id = deal.company_id
    if company_id in (None, ""):
        raise Http404
    company = company_selectors.company_get(actor=_actor(request), company_id=company_id)
    if deal is not None and deal.company_id != company.pk:
        raise Http404
    return company, deal


@require("activities.view_activity")
def activity_create(request: HttpRequest) -> HttpResponse:
    """Log a contact (``?company=<id>`` and optionally ``&deal=<id>``): the client's curator, the deal's
    owners and the head of sales may. A next step with a date becomes the author's task."""
    source = request.POST if request.method == "POST" else request.GET
    company, deal = _company_and_deal(request, source.get("company"), source.get("deal"))
    ensure(request.user, "activities.add_activity", deal or company)
    actor = _actor(request)
    form = ActivityForm(request.POST or None, company=company, actor=actor, deal=deal)
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.activity_create(actor=actor, company=company, **form.service_fields())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The contact was logged."))
            if activity.next_step_on:
                day = date_format(activity.next_step_on, "SHORT_DATE_FORMAT")
                messages.info(request, _("The next step is in your tasks for %(day)s.") % {"day": day})
            return redirect(_safe_next(request) or _back_url(company.pk, activity.deal_id))
    return render(
        request,
        "activities/activity_form.html",
        {
            "form": form,
            "company": company,
            "deal": deal,
            "activity": None,
            "back_url": _safe_next(request) or _back_url(company.pk, deal.pk if deal else None),
        },
    )


@require("activities.view_activity")
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit an entry (its author or the head of sales). The form carries the version it was loaded at, so
    a colleague's edit in between is reported instead of overwritten; the old values stay in history."""
    activity = selectors.activity_get(actor=_actor(request), activity_id=pk)
    ensure(request.user, "activities.change_activity", activity)
    company = activity.company
    form = ActivityForm(request.POST or None, company=company, actor=_actor(request), activity=activity)
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            updated = services.activity_update(
                actor=_actor(request),
                activity=activity,
                expected_version=form.cleaned_data.get("version"),
                **form.service_fields(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except EditConflict as exc:
            conflict = True
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The entry was saved."))
            return redirect(_safe_next(request) or _back_url(company.pk, updated.deal_id))
    return render(
        request,
        "activities/activity_form.html",
        {
            "form": form,
            "company": company,
            "deal": activity.deal,
            "activity": activity,
            "conflict": conflict,
            "back_url": _safe_next(request) or _back_url(company.pk, activity.deal_id),
        },
    )


@require("activities.view_activity")
def activity_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every version of an entry: who changed what, old → new (D3: edits are kept)."""
    activity = selectors.activity_get(actor=_actor(request), activity_id=pk)
    return render(
        request,
        "activities/activity_history.html",
        {
            "activity": activity,
            "company": activity.company,
            "entries": selectors.activity_history(activity=activity),
            "back_url": _back_url(activity.company_id, activity.deal_id),
        },
    )


# Tasks ---------------------------------------------------------------------------------------------------


def _task_back_url(request: HttpRequest, task: Task | None, company: Company | None) -> str:
    target = _safe_next(request)
    if target:
        return target
    company_id = task.company_id if task is not None else (company.pk if company else None)
    if company_id is not None:
        return reverse("activities:company_timeline", args=[company_id])
    return reverse("activities:my_day")


@require("activities.add_task")
def task_create(request: HttpRequest) -> HttpResponse:
    """A new task (``?company=<id>&deal=<id>`` link it); for oneself by default, or for a colleague, who is
    notified."""
    source = request.POST if request.method == "POST" else request.GET
    company: Company | None = None
    deal: Deal | None = None
    if source.get("company") or source.get("deal"):
        company, deal = _company_and_deal(request, source.get("company"), source.get("deal"))
    actor = _actor(request)
    form = TaskForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            task = services.task_create(actor=actor, company=company, deal=deal, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The task was added."))
            return redirect(_task_back_url(request, task, company))
    return render(
        request,
        "activities/task_form.html",
        {
            "form": form,
            "company": company,
            "deal": deal,
            "task": None,
            "back_url": _task_back_url(request, None, company),
        },
    )


@require("activities.view_task")
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a task: its assignee, whoever set it, or the head of sales."""
    task = access_task_by_id(request.user, pk)
    ensure(request.user, "activities.change_task", task)
    form = TaskForm(request.POST or None, actor=_actor(request), task=task)
    if request.method == "POST" and form.is_valid():
        try:
            services.task_update(actor=_actor(request), task=task, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The task was saved."))
            return redirect(_task_back_url(request, task, None))
    return render(
        request,
        "activities/task_form.html",
        {
            "form": form,
            "company": task.company,
            "deal": task.deal,
            "task": task,
            "back_url": _task_back_url(request, task, None),
        },
    )


@require("activities.view_task")
@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a task done (``done=0`` opens it again). An htmx request gets the task's row back."""
    task = access_task_by_id(request.user, pk)
    ensure(request.user, "activities.change_task", task)
    done = request.POST.get("done", "1") not in {"0", "false", ""}
    task = services.task_complete(actor=_actor(request), task=task, done=done)
    if getattr(request, "htmx", False):
        task = access_task_by_id(request.user, pk)
        return render(
            request, "activities/_task_row.html", {"task": task, "now": timezone.now(), "can_change": True}
        )
    if done:
        messages.success(request, _("Done: %(title)s") % {"title": task.title})
    else:
        messages.info(request, _("Opened again: %(title)s") % {"title": task.title})
    return HttpResponseRedirect(_task_back_url(request, task, None))


@require("activities.view_task")
def task_list(request: HttpRequest) -> HttpResponse:
    """Open tasks: the user's own; the head of sales may look at anyone's (``?assignee=<id>`` or ``all``)."""
    actor = _actor(request)
    # The head of sales (and the administrator) look over everyone's tasks.
    may_choose = can(actor, "sales.override_standard")
    wanted = request.GET.get("assignee") or ""
    assignee: User | int | None = actor
    if may_choose and wanted == "all":
        assignee = None
    elif may_choose and _int(wanted):
        assignee = _int(wanted)
    show_done = request.GET.get("done") == "1"
    qs = selectors.task_list(actor=actor, assignee=assignee, done=show_done)
    page = FewRowsPaginator(qs, TASKS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/task_list.html",
        {
            "page": page,
            "tasks": list(page.object_list),
            "now": timezone.now(),
            "may_choose": may_choose,
            "assignees": list(curator_candidates()) if may_choose else [],
            "assignee": "all"
            if assignee is None
            else (assignee.pk if isinstance(assignee, User) else assignee),
            "show_done": show_done,
            "can_add_task": can(actor, "activities.add_task"),
        },
    )


@require("activities.view_task")
def my_day(request: HttpRequest) -> HttpResponse:
    """The user's tasks: overdue, today and the next seven days."""
    now = timezone.now()
    day = selectors.my_day(actor=_actor(request), now=now)
    return render(
        request,
        "activities/my_day.html",
        {
            "day": day,
            "now": now,
            "groups": [
                ("overdue", _("Overdue"), day.overdue, day.counts["overdue"]),
                ("today", _("Today"), day.today, day.counts["today"]),
                ("week", _("Next 7 days"), day.week, day.counts["week"]),
            ],
            "can_add_task": can(request.user, "activities.add_task"),
        },
    )

"""The «Users» pages (Settings → Users): the department's people with their workload, adding and editing
people, and deactivating someone who leaves — their clients, deals, tasks and inquiries handed to a successor
in the same step (R2, R4, D12). The head of sales and the administrator only (``accounts.manage_users``);
reads go through kurator.accounts.selectors, writes through kurator.accounts.services."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kurator.access.decorators import ensure, require
from kurator.access.policy import can
from kurator.accounts import services
from kurator.accounts.models import User
from kurator.accounts.selectors import user_get, user_list_with_workload, user_workload
from kurator.accounts.users_forms import (
    DeactivateForm,
    PasswordForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from kurator.core.forms import apply_service_errors
from kurator.core.net import client_ip

MANAGE = "accounts.manage_users"
PROFILE_FIELDS = ("last_name", "first_name", "patronymic", "email", "phone", "role")


def _actor(request: HttpRequest) -> User:
    # Every view below is behind @require(MANAGE): the user is a signed-in head of sales or administrator.
    return cast(User, request.user)


def _person(request: HttpRequest, pk: int) -> User:
    return user_get(actor=_actor(request), user_id=pk)


def _password_errors_to_form(exc: ValidationError) -> ValidationError:
    """The service names the field ``password``; the forms have ``password1``."""
    if hasattr(exc, "error_dict") and "password" in exc.error_dict:
        exc.error_dict["password1"] = exc.error_dict.pop("password")
    return exc


@require(MANAGE)
def user_list(request: HttpRequest) -> HttpResponse:
    """Everyone with their role, whether they work here, and how many clients, open deals and open tasks
    they hold — one query for the whole list."""
    actor = _actor(request)
    form = UserFilterForm(request.GET or None)
    status = form.status_value()
    people = user_list_with_workload(actor=actor, include_inactive=status != "active")
    if status == "inactive":
        people = people.filter(is_active=False)
    rows = [{"person": p, "may_manage": can(actor, MANAGE, p)} for p in people]
    return render(
        request,
        "accounts/users_list.html",
        {"form": form, "rows": rows, "status": status, "filtered": status != "active"},
    )


@require(MANAGE)
def user_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = UserCreateForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.user_create(
                actor=actor,
                username=data["username"],
                password=data["password1"],
                ip=client_ip(request) or None,
                **{name: data[name] for name in PROFILE_FIELDS},
            )
        except ValidationError as exc:
            apply_service_errors(form, _password_errors_to_form(exc))
        else:
            messages.success(request, _("%(name)s can sign in now.") % {"name": person.full_name})
            return redirect("users:detail", pk=person.pk)
    return render(request, "accounts/users_form.html", {"form": form, "title": _("New user")})


@require(MANAGE)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A person and everything they hold: what a handover would move."""
    actor = _actor(request)
    person = _person(request, pk)
    return render(
        request,
        "accounts/users_detail.html",
        {
            "person": person,
            "workload": user_workload(person),
            "may_manage": can(actor, MANAGE, person),
            "is_self": person.pk == actor.pk,
        },
    )


@require(MANAGE)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    person = _person(request, pk)
    ensure(actor, MANAGE, person)
    initial = {name: getattr(person, name) for name in PROFILE_FIELDS}
    form = UserEditForm(request.POST or None, initial=initial, actor=actor)
    if person.pk == actor.pk:
        # Nobody changes their own role (the service refuses it too).
        form.fields["role"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(
                actor=actor,
                user=person,
                ip=client_ip(request) or None,
                **{name: form.cleaned_data[name] for name in PROFILE_FIELDS},
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("users:detail", pk=person.pk)
    return render(
        request,
        "accounts/users_form.html",
        {"form": form, "person": person, "title": _("Edit %(name)s") % {"name": person.full_name}},
    )


@require(MANAGE)
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    """A new password for someone who forgot theirs."""
    actor = _actor(request)
    person = _person(request, pk)
    ensure(actor, MANAGE, person)
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(actor=actor, user=person, password=form.cleaned_data["password1"])
        except ValidationError as exc:
            apply_service_errors(form, _password_errors_to_form(exc))
        else:
            messages.success(
                request,
                _("%(name)s has a new password; tell it to them in person.") % {"name": person.full_name},
            )
            return redirect("users:detail", pk=person.pk)
    return render(
        request,
        "accounts/users_form.html",
        {
            "form": form,
            "person": person,
            "title": _("New password for %(name)s") % {"name": person.full_name},
        },
    )


def _handover_summary(result: services.Deactivation) -> str:
    return _("Handed over: %(work)s.") % {"work": services.work_summary(result.handover.as_counts())}


@require(MANAGE)
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything the user holds, a successor and a reason: submitting hands it all over and deactivates the
    user in one step (R2: each client keeps one active curator; D12: nothing is deleted)."""
    actor = _actor(request)
    person = _person(request, pk)
    ensure(actor, MANAGE, person)
    form = DeactivateForm(request.POST or None, user=person)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.user_deactivate(
                actor=actor,
                user=person,
                successor=form.cleaned_data["successor"],
                reason=form.cleaned_data["reason"],
                ip=client_ip(request) or None,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            text = _("%(name)s is deactivated and can no longer sign in.") % {"name": person.full_name}
            if result.handover.total:
                text += " " + _handover_summary(result)
            messages.success(request, text)
            return redirect("users:detail", pk=person.pk)
    workload = user_workload(person)
    return render(
        request,
        "accounts/users_deactivate.html",
        {"form": form, "person": person, "workload": workload, "is_self": person.pk == actor.pk},
    )


@require(MANAGE)
@require_POST
def user_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    person = _person(request, pk)
    try:
        services.user_reactivate(actor=actor, user=person, ip=client_ip(request) or None)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("%(name)s can sign in again.") % {"name": person.full_name})
    return redirect("users:detail", pk=person.pk)

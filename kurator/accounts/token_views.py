"""«API tokens» (R4): the signed-in user's tokens for integrations and scripts — list, create (the key is
shown once), revoke. The head of sales and the administrator also see and revoke everyone else's.

Reads and writes go through kurator.accounts.tokens; the page needs only a login (a token is always the
user's own), and the list of other people's tokens follows ``accounts.manage_users``.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kurator.access.decorators import require
from kurator.access.policy import AUTHENTICATED, can
from kurator.accounts.models import ApiToken
from kurator.accounts.tokens import (
    NAME_MAX_LENGTH,
    api_token_create,
    api_token_get,
    api_token_list,
    api_token_revoke,
)
from kurator.core.forms import apply_service_errors
from kurator.core.pagination import FewRowsPaginator

OTHERS_PER_PAGE = 50


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=gettext_lazy("What the token is for: «1C exchange», «Website form», «Report script»."),
    )
    expires_on = forms.DateField(
        label=gettext_lazy("Valid until (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("Leave empty for a token that works until it is revoked."),
    )

    def expires_at(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        # The last day is included: the token ends at the following midnight, local time.
        return timezone.make_aware(datetime.combine(day, time.max).replace(microsecond=0))


def _row(token: ApiToken, now: datetime) -> dict[str, Any]:
    return {"token": token, "status": token.status(now)}


def _render(
    request: HttpRequest, form: ApiTokenForm, *, new_key: str = "", status: int = 200
) -> HttpResponse:
    actor = request.user
    now = timezone.now()
    may_manage_all = can(actor, "accounts.manage_users")
    context: dict[str, Any] = {
        "form": form,
        "new_key": new_key,
        "mine": [_row(t, now) for t in api_token_list(actor=actor)],
        "may_manage_all": may_manage_all,
    }
    if may_manage_all:
        page = FewRowsPaginator(api_token_list(actor=actor, others=True), OTHERS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        context["page"] = page
        context["page_range"] = page.paginator.get_elided_page_range(page.number)
        context["others"] = [_row(t, now) for t in page.object_list]
    response = render(request, "accounts/api_tokens.html", context, status=status)
    if new_key:
        response["Cache-Control"] = "no-store"  # the key must not stay in a cache
    return response


@require(AUTHENTICATED)
def api_tokens(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render(request, ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    try:
        _token, key = api_token_create(
            actor=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at(), request=request
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "expires_at" in exc.error_dict:
            exc.error_dict["expires_on"] = exc.error_dict.pop("expires_at")
        apply_service_errors(form, exc)
        return _render(request, form, status=400)
    # The key is shown on this answer only (not after a redirect): nothing keeps it.
    return _render(request, ApiTokenForm(), new_key=key)


@require(AUTHENTICATED)
@require_POST
def api_token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = api_token_get(actor=request.user, token_id=pk)
    api_token_revoke(actor=request.user, token=token, request=request)
    messages.success(
        request,
        _("The token «%(name)s» (%(prefix)s…) is revoked: it no longer opens the API.")
        % {"name": token.name or "—", "prefix": token.prefix},
    )
    return redirect("api_tokens")

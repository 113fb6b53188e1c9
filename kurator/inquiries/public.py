"""The public web form a company embeds on its site (R2, S2): no login, one inquiry per submission.

Defences, each for a reason:
- a hidden honeypot field: bots fill every field, people never see it; a filled one gets the thank-you page
  and nothing is stored, so the bot learns nothing;
- a signed timestamp token (TimestampSigner) issued with the form: it replaces the CSRF token (see below),
  and its age refuses replays older than a day and scripted posts faster than a person can type;
- a rate limit per client IP address in the cache: a flood gets 429 with a clear message.

CSRF: the view is ``csrf_exempt`` because it acts on no session: it never reads ``request.user``, never sets
or trusts a cookie, and writes only a new inquiry, exactly what any visitor may do. Inside a third-party page
a CSRF cookie would be a blocked third-party cookie anyway; the signed token proves the post comes from a
form Kurator served. It is embeddable (``xframe_options_exempt``) — this view and its thank-you page only.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from kurator.access.decorators import require
from kurator.access.policy import PUBLIC
from kurator.companies.models import ContactSource
from kurator.core.forms import apply_service_errors
from kurator.core.net import client_ip
from kurator.inquiries import services
from kurator.inquiries.forms import HONEYPOT_FIELD, PublicInquiryForm
from kurator.inquiries.models import Channel

TOKEN_SALT = "kurator.inquiries.public-form"  # noqa: S105 (a namespace for signatures, not a secret)
TOKEN_MAX_AGE = 24 * 60 * 60  # a form left open for a day is reloaded, not trusted
TOKEN_MIN_AGE = 2  # seconds: no person fills the form faster
RATE_LIMIT = 5  # submissions …
RATE_WINDOW = 10 * 60  # … per this many seconds per IP address


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def issue_token() -> str:
    return signing.TimestampSigner(salt=TOKEN_SALT).sign(secrets.token_urlsafe(8))


def token_problem(token: str, now: float | None = None) -> str | None:
    """Why the token is not acceptable ("forged", "expired", "too_fast"), or None when it is."""
    signer = signing.TimestampSigner(salt=TOKEN_SALT)
    max_age = _setting("KURATOR_PUBLIC_FORM_TOKEN_MAX_AGE", TOKEN_MAX_AGE)
    try:
        signer.unsign(token or "", max_age=max_age)
    except signing.SignatureExpired:
        return "expired"
    except signing.BadSignature:
        return "forged"
    issued = signing.b62_decode(token.rsplit(signer.sep, 2)[1])
    if (now if now is not None else time.time()) - issued < _setting(
        "KURATOR_PUBLIC_FORM_TOKEN_MIN_AGE", TOKEN_MIN_AGE
    ):
        return "too_fast"
    return None


def rate_limited(ip: str) -> bool:
    """Count a submission from ``ip``; True once it exceeds the limit within the window (fixed window)."""
    limit = _setting("KURATOR_PUBLIC_FORM_RATE_LIMIT", RATE_LIMIT)
    window = _setting("KURATOR_PUBLIC_FORM_RATE_WINDOW", RATE_WINDOW)
    key = f"kurator:public-inquiry:{ip or 'unknown'}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return int(count) > limit


def _preset_source(raw: Any) -> ContactSource | None:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:
        return None
    return ContactSource.objects.filter(pk=pk, is_active=True).first()


def _render_form(
    request: HttpRequest, form: PublicInquiryForm, status: int = 200, **extra: Any
) -> HttpResponse:
    return render(
        request,
        "inquiries/public_form.html",
        {"form": form, "honeypot": form[HONEYPOT_FIELD], **extra},
        status=status,
    )


@require(PUBLIC)
@csrf_exempt  # acts on no session; the signed token stands in for the CSRF token (module docstring)
@xframe_options_exempt  # companies embed this form in an <iframe> on their own sites
@require_http_methods(["GET", "POST"])
def public_inquiry(request: HttpRequest) -> HttpResponse:
    """The embeddable inquiry form; ``?source=<id>`` presets the contact source (S2)."""
    if request.method != "POST":
        source = _preset_source(request.GET.get("source"))
        form = PublicInquiryForm(initial={"token": issue_token(), "source": source.pk if source else None})
        return _render_form(request, form)

    ip = client_ip(request)
    if rate_limited(ip):
        window = _setting("KURATOR_PUBLIC_FORM_RATE_WINDOW", RATE_WINDOW)
        response = render(
            request, "inquiries/public_limited.html", {"minutes": max(1, window // 60)}, status=429
        )
        response["Retry-After"] = str(window)
        return response

    if request.POST.get(HONEYPOT_FIELD):
        # A bot: it sees the same success a person sees, and nothing is stored.
        return redirect("public_inquiry_thanks")

    data = request.POST.copy()
    data["token"] = issue_token()  # a refused form comes back with a fresh token
    form = PublicInquiryForm(data)
    problem = token_problem(request.POST.get("token", ""))
    if problem is not None:
        form.is_valid()
        return _render_form(request, form, status=400, token_problem=problem)
    if not form.is_valid():
        return _render_form(request, form, status=400)

    fields = {k: v for k, v in form.cleaned_data.items() if k not in {"token", "source", HONEYPOT_FIELD}}
    try:
        services.inquiry_create(
            actor=None,
            channel=Channel.WEB_FORM,
            source=_preset_source(form.cleaned_data.get("source")),
            client_ip=ip or None,
            **fields,
        )
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return _render_form(request, form, status=400)
    return redirect(reverse("public_inquiry_thanks"))


@require(PUBLIC)
@xframe_options_exempt  # shown inside the same <iframe> after a submission
def public_inquiry_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "inquiries/public_thanks.html", {"message": _("Thank you, we will contact you.")})

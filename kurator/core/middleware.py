"""Security headers (R4): a Content Security Policy without inline scripts on every HTML page, and a
Permissions-Policy on every response. (Referrer-Policy and Cross-Origin-Opener-Policy come from Django's
SecurityMiddleware: SECURE_REFERRER_POLICY, SECURE_CROSS_ORIGIN_OPENER_POLICY.)

The policy allows scripts only from Kurator's own static files: no inline <script>, no on* handlers, no eval.
Styles keep 'unsafe-inline': the templates set a few computed style="" attributes (progress bar widths),
htmx adds its indicator <style>, and the API docs (Swagger UI) carry an inline <style>. Style injection alone
runs no code, and scripts are what the policy is for.

``connect-src 'self'`` also covers WebSockets to Kurator's own host (CSP Level 3), so no ws:/wss: wildcard
opens a channel to other hosts.

A view marked ``xframe_options_exempt`` (the public inquiry form and its thank-you page, which companies
embed on their own sites) may be framed by KURATOR_EMBED_FRAME_ANCESTORS (default ``*``, any site) instead of
``'none'``. KURATOR_CSP replaces the whole policy; KURATOR_CSP_REPORT_ONLY=1 sends it as
Content-Security-Policy-Report-Only.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

DEFAULT_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# Features no page of Kurator uses; a script injected anyway cannot reach them.
DEFAULT_PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)


def parse_policy(text: str) -> dict[str, str]:
    """``"a x; b y"`` → {"a": "x", "b": "y"} (directive names lower-cased, order kept)."""
    policy: dict[str, str] = {}
    for part in text.split(";"):
        name, _sep, value = part.strip().partition(" ")
        if name:
            policy[name.lower()] = value.strip()
    return policy


def render_policy(policy: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}".strip() for name, value in policy.items())


def content_security_policy(*, embeddable: bool = False) -> str:
    """The policy for a page; ``embeddable``: one other sites may frame (the public inquiry form)."""
    custom = getattr(settings, "KURATOR_CSP", "")
    policy = parse_policy(custom) if custom else dict(DEFAULT_CSP)
    if embeddable:
        policy["frame-ancestors"] = getattr(settings, "KURATOR_EMBED_FRAME_ANCESTORS", "*") or "*"
    return render_policy(policy)


def _is_html(response: HttpResponse) -> bool:
    # Only documents a browser renders as a page need the policy; a file download (a PDF shown in the
    # browser's own viewer) keeps working without it, and JSON has nothing to run.
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return content_type in {"text/html", "application/xhtml+xml"}


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        header = (
            "Content-Security-Policy-Report-Only"
            if getattr(settings, "KURATOR_CSP_REPORT_ONLY", False)
            else "Content-Security-Policy"
        )
        if header not in response and _is_html(response):
            embeddable = bool(getattr(response, "xframe_options_exempt", False))
            response[header] = content_security_policy(embeddable=embeddable)
        response.headers.setdefault(
            "Permissions-Policy",
            getattr(settings, "KURATOR_PERMISSIONS_POLICY", "") or DEFAULT_PERMISSIONS_POLICY,
        )
        return response

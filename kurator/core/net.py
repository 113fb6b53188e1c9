"""Facts about the request's network side, shared by the public form, the audit log and sign-in throttling."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The visitor's address. Behind N trusted reverse proxies (KURATOR_TRUSTED_PROXY_COUNT) it is the Nth
    address from the right of X-Forwarded-For; the leftmost ones are whatever the client chose to send."""
    proxies = int(getattr(settings, "KURATOR_TRUSTED_PROXY_COUNT", 0))
    if proxies > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))

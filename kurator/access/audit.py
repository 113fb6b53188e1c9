"""The audit log's one writer (D12). Rows are only ever added; see ``AuditEvent``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kurator.access.models import AuditAction, AuditEvent
from kurator.core.net import client_ip


def _object_type(obj: Any) -> str:
    return obj._meta.model_name if obj is not None else ""


def audit_record(
    *,
    action: AuditAction | str,
    allowed: bool,
    rule: str = "",
    user: Any = None,
    username: str = "",
    obj: Any = None,
    company: Any = None,
    request: HttpRequest | None = None,
    ip: str | None = None,
    detail: str = "",
) -> AuditEvent:
    """Add one line to the audit log.

    ``obj`` is what was acted on (a company, a document, a grant, a user …); ``company`` defaults to the
    object itself when it is a company, or to its ``company``. ``request`` supplies the user and the IP
    address when they are not given. Call it outside a transaction that may roll back when the line must
    survive a refusal (views answer 403 by returning, not by raising, after logging)."""
    if request is not None:
        if user is None and getattr(request, "user", None) is not None and request.user.is_authenticated:
            user = request.user
        if ip is None:
            ip = client_ip(request) or None
    if company is None and obj is not None:
        company = obj if hasattr(obj, "curator_id") else getattr(obj, "company", None)
    return AuditEvent.objects.create(
        action=str(action),
        allowed=allowed,
        rule=rule[:64],
        user=user if user is not None and getattr(user, "pk", None) else None,
        username=(username or (getattr(user, "username", "") if user is not None else ""))[:150],
        object_type=_object_type(obj),
        object_id=getattr(obj, "pk", None),
        company_id=getattr(company, "pk", None),
        ip=ip or None,
        detail=detail[:500],
    )

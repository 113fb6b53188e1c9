"""Every HTML view names the permission it needs; tests/test_policy_coverage.py enforces that."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from kurator.access.policy import AUTHENTICATED, PUBLIC, REFUSALS, can
from kurator.core.errors import AccessDenied

View = Callable[..., HttpResponse]


def require(permission: str) -> Callable[[View], View]:
    """Log-in plus a model-level permission; object-level checks use ``ensure`` inside the view."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if permission == PUBLIC:
                return view(request, *args, **kwargs)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if permission != AUTHENTICATED and not can(request.user, permission):
                raise AccessDenied
            return view(request, *args, **kwargs)

        wrapped.kurator_permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorator


def ensure(actor: Any, permission: str, obj: Any = None) -> None:
    """Refuse (403) unless the policy allows; the refusal says why where the policy has words for it."""
    if not can(actor, permission, obj):
        message = REFUSALS.get(permission)
        raise AccessDenied(str(message)) if message else AccessDenied

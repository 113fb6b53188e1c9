"""DRF side of the policy: each view declares ``permissions`` (action -> permission) and optionally
``object_permissions`` (action -> permission checked against the object)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from kurator.access.policy import AUTHENTICATED, PUBLIC, can


def _action(request: Request, view: Any) -> str:
    action = getattr(view, "action", None)
    return action or request.method.lower()  # type: ignore[union-attr]


class PolicyPermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, request.method.lower(), None) is None:  # type: ignore[union-attr]
            # A method the view does not offer runs nothing: let DRF answer 405 rather than 403.
            return True
        permissions: dict[str, str] = getattr(view, "permissions", {})
        permission = permissions.get(_action(request, view)) or permissions.get("*")
        if permission is None:
            # An endpoint that names no permission is closed (and the coverage test fails on it).
            return False
        if permission == PUBLIC:
            return True
        if not (request.user and request.user.is_authenticated):
            return False
        return permission == AUTHENTICATED or can(request.user, permission)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        object_permissions: dict[str, str] = getattr(view, "object_permissions", {})
        permission = object_permissions.get(_action(request, view))
        if permission is None:
            return True
        target = obj if not hasattr(view, "policy_object") else view.policy_object(obj)
        return can(request.user, permission, target)

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kurator.access.policy import can


class _Permissions:
    """Lets templates ask ``{% if perms_k.companies.add_company %}`` through the policy."""

    def __init__(self, user: Any, app: str | None = None) -> None:
        self.user = user
        self.app = app

    def __getitem__(self, name: str) -> Any:
        if self.app is None:
            return _Permissions(self.user, name)
        try:
            return can(self.user, f"{self.app}.{name}")
        except KeyError:
            return False


def access(request: HttpRequest) -> dict[str, Any]:
    return {"policy": _Permissions(getattr(request, "user", None))}

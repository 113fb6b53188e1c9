"""R4 and ARCHITECTURE.md convention 3: every URL pattern and API route names the permission it needs.

The checker walks the whole URL configuration (HTML pages, the API router, the schema and docs), so a view
added later without a declared permission fails this test whoever adds it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path
from rest_framework import mixins, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from kurator.access.api import PolicyPermission
from kurator.access.decorators import require
from kurator.access.policy import AUTHENTICATED, PERMISSIONS, PUBLIC

VALID = PERMISSIONS | {PUBLIC, AUTHENTICATED}
# OPTIONS answers with metadata only; a view that does not declare it refuses it (PolicyPermission closes
# whatever is not named), so it is not an exposure to declare.
NOT_EXPOSED = {"options", "metadata"}


@dataclass(frozen=True)
class Route:
    route: str
    name: str | None
    callback: Callable[..., Any]


def iter_routes(patterns: list[Any], prefix: str = "") -> Iterator[Route]:
    """Every leaf pattern under ``patterns``, with its full route, through any depth of include()."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from iter_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield Route(prefix + str(pattern.pattern), pattern.name, pattern.callback)


def exposed_actions(callback: Any) -> list[str]:
    """What a DRF route lets a client run: viewset actions, or the HTTP methods an APIView implements."""
    actions = getattr(callback, "actions", None)
    if actions:
        return sorted(set(actions.values()) - NOT_EXPOSED)
    view_class = callback.cls
    return sorted(m for m in view_class.http_method_names if m not in NOT_EXPOSED and hasattr(view_class, m))


def policy_problems(route: Route) -> list[str]:
    """Why ``route`` is not covered by the policy; an empty list when it is."""
    callback = route.callback
    where = f"{route.route} ({route.name or 'unnamed'})"
    view_class = getattr(callback, "cls", None)
    if view_class is not None and isinstance(view_class, type) and issubclass(view_class, APIView):
        problems: list[str] = []
        if PolicyPermission not in tuple(view_class.permission_classes):
            problems.append(f"{where}: {view_class.__name__} does not use PolicyPermission")
        permissions = getattr(view_class, "permissions", None)
        if not isinstance(permissions, dict) or not permissions:
            return [*problems, f"{where}: {view_class.__name__} declares no `permissions`"]
        for action in exposed_actions(callback):
            if action not in permissions and "*" not in permissions:
                problems.append(f"{where}: {view_class.__name__} has no permission for action {action!r}")
        object_permissions = getattr(view_class, "object_permissions", None) or {}
        for action, permission in {**permissions, **object_permissions}.items():
            if permission not in VALID:
                problems.append(
                    f"{where}: {view_class.__name__}.{action} names unknown permission {permission!r}"
                )
        return problems
    permission = getattr(callback, "kurator_permission", None)
    if permission is None:
        return [
            f"{where}: view {getattr(callback, '__qualname__', callback)!r} is not decorated with @require"
        ]
    if permission not in VALID:
        return [f"{where}: view names unknown permission {permission!r}"]
    return []


def uncovered(patterns: list[Any]) -> list[str]:
    return [problem for route in iter_routes(patterns) for problem in policy_problems(route)]


def test_every_url_pattern_and_api_route_declares_a_permission():
    """R4: no page or API route of Kurator is reachable without a declared permission."""
    routes = list(iter_routes(get_resolver().url_patterns))
    names = {route.name for route in routes}
    # The walk must reach the HTML pages, the API router and the schema, or the check proves nothing.
    assert {
        "home",
        "login",
        "api-token",
        "company-list",
        "company-history",
        "user-me",
        "api-schema",
        "api-docs",
    } <= names
    assert uncovered(get_resolver().url_patterns) == []


def test_every_registered_api_viewset_is_routed_and_covered():
    """R4: each viewset of the API router is reached by the walk above (none escapes the check)."""
    from kurator.api_urls import router

    routed = {getattr(route.callback, "cls", None) for route in iter_routes(get_resolver().url_patterns)}
    for _prefix, viewset, _basename in router.registry:
        assert viewset in routed, viewset


# The checker itself: it must report what it is meant to catch.


def _undeclared_function(request):
    return HttpResponse("")


@require("companies.view_company")
def _declared_function(request):
    return HttpResponse("")


@require("companies.no_such_permission")
def _unknown_permission_function(request):
    return HttpResponse("")


class _UndeclaredViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    pass


class _PartialViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    permissions = {"list": "companies.view_company"}


class _DeclaredViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    permissions = {"list": "companies.view_company", "destroy": "companies.change_company"}


class _OpenAPIView(APIView):
    permission_classes = [AllowAny]
    permissions = {"*": PUBLIC}

    def get(self, request):
        return Response({})


class _MissingMethodAPIView(APIView):
    permissions = {"get": AUTHENTICATED}

    def get(self, request):
        return Response({})

    def post(self, request):
        return Response({})


def _fake_patterns() -> list[Any]:
    router = SimpleRouter()
    router.register("undeclared", _UndeclaredViewSet, basename="undeclared")
    router.register("partial", _PartialViewSet, basename="partial")
    router.register("declared", _DeclaredViewSet, basename="declared")
    return [
        path("plain/", _undeclared_function, name="plain"),
        path("fine/", _declared_function, name="fine"),
        path("typo/", _unknown_permission_function, name="typo"),
        path("open/", _OpenAPIView.as_view(), name="open"),
        path("missing-method/", _MissingMethodAPIView.as_view(), name="missing-method"),
        path("api/", (router.urls, "fake", "fake")),
    ]


def test_checker_reports_undeclared_views():
    """R4: the coverage check fails on a view without a permission, so it cannot pass by walking nothing."""
    problems = "\n".join(uncovered(_fake_patterns()))
    assert "plain/ (plain): view" in problems and "not decorated with @require" in problems
    assert "unknown permission 'companies.no_such_permission'" in problems
    assert "_OpenAPIView does not use PolicyPermission" in problems
    assert "_MissingMethodAPIView has no permission for action 'post'" in problems
    assert "_UndeclaredViewSet declares no `permissions`" in problems
    assert "_PartialViewSet has no permission for action 'destroy'" in problems
    assert "fine/" not in problems
    assert "_DeclaredViewSet" not in problems


@pytest.mark.parametrize("name", ["plain", "fine"])
def test_checker_walks_nested_includes(name):
    """R4: routes inside include() are reached with their full path."""
    nested = [path("outer/", ([path("inner/", (_fake_patterns(), "x", "x"))], "y", "y"))]
    routes = {route.name: route.route for route in iter_routes(nested)}
    assert routes[name] == f"outer/inner/{name}/"

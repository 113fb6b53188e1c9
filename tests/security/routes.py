"""Every URL pattern and API route of Kurator, with a concrete URL for each ownership kind (R4).

The walk is ``iter_routes`` of the policy coverage test (kurator/access/tests/test_policy_coverage.py), so a
route added by anyone is in the matrix the moment it is in the URL configuration. Its keyword arguments are
filled from the security world (tests/security/world.py) by name: first the argument's own name
(``contact_pk`` → the person), then for ``pk`` the path segment before it (``deals/<pk>`` → the deal), then,
for an API viewset, its model. A route nothing matches is reported as a failure that says which mapping to
add, so that no new route escapes the matrix silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.urls import Resolver404, get_resolver, resolve
from rest_framework.views import APIView

from kurator.access.tests.test_policy_coverage import NOT_EXPOSED, Route, iter_routes

# A keyword argument named like this points at this world object whatever the route.
KWARG_KEYS: dict[str, str] = {
    "company_pk": "company",
    "contact_pk": "contact",
    "account_pk": "bank_account",
    "duplicate_pk": "duplicate_company",
    "pipeline_pk": "pipeline",
    "stage_pk": "stage",
    "deal_pk": "deal",
    "contract_pk": "contract",
    "conflict_pk": "conflict",
    "document_pk": "document",
    "version_pk": "document_version",
    "request_pk": "access_request",
    "grant_pk": "access_grant",
    "user_pk": "user",
    # companies/dictionaries/<kind>/<item_pk>/: the world fills the "sources" dictionary.
    "kind": "dictionary_kind",
    "item_pk": "contact_source",
    # documents/<pk>/versions/<number>/download/: the version's number, not its id.
    "number": "document_version_number",
    # calendar/<token>.ics: the colleague's private feed.
    "token": "calendar_token",
}

# ``pk`` (or ``id``) after these path segments (the longest match wins) points at this world object.
SEGMENT_KEYS: dict[str, str] = {
    "companies": "company",
    "company": "company",
    "people": "contact",
    "contacts": "contact",
    "bank-accounts": "bank_account",
    "users": "user",
    "inquiries": "inquiry",
    "rules": "distribution_rule",
    "notifications": "notification",
    "imports": "import_batch",
    "deals": "deal",
    "pipelines": "pipeline",
    "stages": "stage",
    "checklist": "checklist_item",
    "activities": "activity",
    "tasks": "task",
    "sources": "contact_source",
    "invoices": "invoice",
    "payments": "payment",
    "bank/payments": "bank_payment",
    "bank-payments": "bank_payment",
    "allocations": "allocation",
    "collection-actions": "collection_action",
    "contracts": "contract",
    "obligations": "obligation",
    "conflicts": "conflict",
    "products": "product",
    "product-categories": "product_category",
    "orders": "order",
    "approvals": "credit_approval",
    "bank/statements": "bank_statement",
    "bank-statements": "bank_statement",
    "solvency/statements": "financial_statement",
    "financial-statements": "financial_statement",
    "documents": "document",
    "versions": "document_version",
    "access-requests": "access_request",
    "requests": "access_request",
    "access-grants": "access_grant",
    "grants": "access_grant",
    "audit-log": "audit_event",
    "tokens": "api_token",
    "auth/tokens": "api_token",
    "audit": "audit_event",
}

# Routes the generic matrix cannot exercise, each with the reason. Keep this list short: every entry is a
# route whose access control is tested only by its own app's tests.
SKIP: dict[str, str] = {}

# Confidential sections (R4, D12): the routes whose answers carry confidential data.
CONFIDENTIAL_WORDS = ("solvency", "financial-statement", "financial_statement", "document", "audit")

_CONVERTER = re.compile(r"(?<!\?P)<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
# HEAD answers like GET, OPTIONS with metadata only (see NOT_EXPOSED in the coverage test).
_SAME_AS_GET = {"head", "options", *NOT_EXPOSED}
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Endpoint:
    """One route: its pattern, its view and what the policy says about it."""

    route: str
    name: str
    callback: Any

    @property
    def view_class(self) -> Any:
        cls = getattr(self.callback, "cls", None)
        return cls if isinstance(cls, type) and issubclass(cls, APIView) else None

    @property
    def is_api(self) -> bool:
        return self.view_class is not None

    @property
    def kwargs(self) -> list[str]:
        return [m.group("name") for m in _CONVERTER.finditer(self.route)] + [
            m.group("name") for m in _GROUP.finditer(self.route)
        ]

    @property
    def label(self) -> str:
        return f"{self.clean_route} ({self.name})"

    @property
    def clean_route(self) -> str:
        return "/" + self.route.replace("^", "").replace("$", "")

    @property
    def is_confidential(self) -> bool:
        text = f"{self.route} {self.name}".lower()
        return any(word in text for word in CONFIDENTIAL_WORDS)

    def methods(self) -> dict[str, str]:
        """HTTP method -> action (the DRF action of a viewset, the method itself for a plain view)."""
        if not self.is_api:
            return {"get": "get"}
        actions = getattr(self.callback, "actions", None)
        if actions:
            return {m: a for m, a in actions.items() if a not in NOT_EXPOSED and m not in _SAME_AS_GET}
        cls = self.view_class
        return {m: m for m in cls.http_method_names if m not in _SAME_AS_GET and hasattr(cls, m)}

    def permission(self, action: str) -> str | None:
        if not self.is_api:
            return getattr(self.callback, "kurator_permission", None)
        permissions = getattr(self.view_class, "permissions", {}) or {}
        return permissions.get(action) or permissions.get("*")

    def object_permission(self, action: str) -> str | None:
        if not self.is_api:
            return None
        return (getattr(self.view_class, "object_permissions", None) or {}).get(action)

    def model(self) -> Any:
        cls = self.view_class
        if cls is None:
            return None
        model = getattr(cls, "model", None)
        if model is None and getattr(cls, "queryset", None) is not None:
            model = cls.queryset.model
        if model is None:
            serializer = getattr(cls, "serializer_class", None)
            model = getattr(getattr(serializer, "Meta", None), "model", None)
        return model

    def key_for(self, kwarg: str) -> str | None:
        """The world object a keyword argument of this route names, or None when nothing matches."""
        if kwarg in KWARG_KEYS:
            return KWARG_KEYS[kwarg]
        if kwarg not in ("pk", "id"):
            return None
        before = self.route.split(f"<int:{kwarg}>")[0].split(f"(?P<{kwarg}>")[0]
        before = _GROUP.sub("", _CONVERTER.sub("", before)).replace("^", "")
        segments = [s for s in before.split("/") if s]
        for length in range(len(segments), 0, -1):
            suffix = "/".join(segments[-length:])
            if suffix in SEGMENT_KEYS:
                return SEGMENT_KEYS[suffix]
        return None

    def url(self, objects: dict[str, Any]) -> str:
        """The route with its keyword arguments filled from ``objects``; KeyError names what is missing."""
        values: dict[str, str] = {}
        for kwarg in self.kwargs:
            key = self.key_for(kwarg)
            value = objects.get(key) if key else None
            if value is None and self.is_api and kwarg in ("pk", "id"):
                value = _by_model(self.model(), objects)
            if value is None:
                raise KeyError(
                    f"{self.label}: no world object for URL argument {kwarg!r} (mapped to {key!r}). "
                    "Add the argument name to KWARG_KEYS or the path segment before it to SEGMENT_KEYS "
                    "in tests/security/routes.py, and the object to tests/security/world.py; or, if the "
                    "route truly cannot be exercised generically, list it in SKIP with the reason."
                )
            values[kwarg] = str(getattr(value, "pk", value))

        def converter(match: re.Match[str]) -> str:
            return values[match.group("name")]

        path = _GROUP.sub(converter, _CONVERTER.sub(converter, self.route)).replace("^", "").replace("$", "")
        return "/" + path

    def resolves_to_itself(self, url: str) -> bool:
        try:
            match = resolve(url.split("?")[0])
        except Resolver404:
            return False
        return match.func is self.callback or getattr(match.func, "cls", None) is self.view_class


def _by_model(model: Any, objects: dict[str, Any]) -> Any:
    if model is None:
        return None
    for value in objects.values():
        if type(value) is model:
            return value
    return None


@cache
def endpoints() -> tuple[Endpoint, ...]:
    """Every leaf route of the URL configuration (HTML pages and API), in URL-configuration order."""
    found = [
        Endpoint(route.route, route.name or "", route.callback)
        for route in iter_routes(get_resolver().url_patterns)
    ]
    return tuple(e for e in found if e.route not in SKIP)


def html_endpoints() -> list[Endpoint]:
    return [e for e in endpoints() if not e.is_api]


def api_endpoints() -> list[Endpoint]:
    return [e for e in endpoints() if e.is_api]


def all_routes() -> list[Route]:
    return list(iter_routes(get_resolver().url_patterns))

"""OpenAPI post-processing: the error answers every operation may give, documented once.

The views document their successes; the errors come from one exception handler (``kurator/core/api.py``) and
are the same everywhere: ``400 {"field": ["message"], …}``, ``401``/``403``/``404``/``405``/``415``
``{"detail": "…"}``, ``409`` for an edit conflict. Adding them here keeps the published schema true (the
schemathesis run checks every status against it) without a decorator on each of 150 operations.
"""

from __future__ import annotations

from typing import Any

_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
_FIELD_ERRORS = {
    "type": "object",
    "description": "Each field named with its messages; errors not tied to a field under non_field_errors.",
    "additionalProperties": True,
}
ERRORS: dict[str, tuple[str, dict[str, Any]]] = {
    "400": ("Invalid input: the fields and the reasons.", _FIELD_ERRORS),
    "401": ("Not signed in, or the token is unknown, revoked or expired.", _DETAIL),
    "403": ("The policy does not allow it.", _DETAIL),
    "404": ("No such record, or one the caller may not see.", _DETAIL),
    "405": ("The method is not offered here.", _DETAIL),
    "409": ("Edit conflict: the record changed meanwhile, or its state refuses this.", _DETAIL),
    "415": ("Unsupported body type.", _DETAIL),
}
_METHODS = {"get", "post", "put", "patch", "delete"}
_WRITES = {"post", "put", "patch", "delete"}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry: document the shared error answers on every operation."""
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code, (description, schema) in ERRORS.items():
                if code in {"409", "415"} and method not in _WRITES:
                    continue
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": schema}}}
                )
    return result

"""API plumbing shared by every app: pagination and the one exception handler."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kurator.core.errors import EditConflict
from kurator.core.forms import validation_error_messages
from kurator.core.pagination import FewRowsPaginator


class Pagination(PageNumberPagination):
    django_paginator_class = FewRowsPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_messages(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, EditConflict):
        return Response({"detail": str(exc.message)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, IntegrityError):
        # Constraints are checked in services first; reaching here means a race with another writer.
        return Response(
            {"detail": _("The record conflicts with another one saved at the same time. Try again.")},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, PermissionDenied | Http404):
        return drf_exception_handler(exc, context)
    return drf_exception_handler(exc, context)


class ActorMixin:
    """``self.actor``: the signed-in user of an API view (PolicyPermission has let only members in by the time
    a handler runs)."""

    @property
    def actor(self) -> Any:
        return self.request.user  # type: ignore[attr-defined]


def versioned_fields(serializer: serializers.BaseSerializer[Any]) -> tuple[dict[str, Any], int | None]:
    """A write serializer's data for a service, and the ``version`` the client read (for the 409 check)."""
    data = dict(serializer.validated_data)
    return data, data.pop("version", None)


def money_field(help_text: Any = None, **kwargs: Any) -> serializers.DecimalField:
    """Roubles with kopecks, as the money columns hold them, written as a decimal string (``"1234.50"``)."""
    return serializers.DecimalField(
        max_digits=16, decimal_places=2, coerce_to_string=True, help_text=help_text, **kwargs
    )

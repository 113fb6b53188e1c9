"""RecordViewSet: the shape of an API viewset whose records are read through selectors and written through
services: list, retrieve, create, update (a viewset that deletes adds DestroyModelMixin itself).

Not in kurator.core.api: the settings name that module's Pagination, which DRF imports while its generic
views are still loading, so it cannot import them itself.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from drf_spectacular.openapi import AutoSchema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from kurator.core.api import ActorMixin


class RecordSchema(AutoSchema):
    """An edit is parsed by ``update_serializer_class`` but answered with the whole record
    (``serializer_class``)."""

    def get_response_serializers(self) -> Any:
        view: Any = self.view
        if getattr(view, "action", None) in ("update", "partial_update"):
            return view.serializer_class
        return super().get_response_serializers()


class RecordViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, retrieve, create and update records of ``model`` that are read through selectors and written
    through services. A concrete viewset names:

    - ``serializer_class``, and ``update_serializer_class`` for PUT/PATCH (what may not change is read-only
      there); both kinds of write answer with ``serializer_class``, see :meth:`answer`;
    - ``select_list()`` (the rows the caller may list) and ``select_one(pk)`` (one of them, 404 otherwise);
    - the policy: ``view_permission`` lists and reads, ``create_permission`` creates (default: the view
      permission — the service decides for which client), and an edit passes the gate with the view
      permission while ``change_permission`` is checked against the record (or against what
      ``policy_object`` returns). ``change_actions`` are further actions gated like an edit. The
      ``permissions`` and ``object_permissions`` that PolicyPermission reads are built from these names,
      unless the viewset declares them itself.
    """

    model: ClassVar[type[Model]]
    serializer_class: type[serializers.BaseSerializer[Any]]
    update_serializer_class: type[serializers.BaseSerializer[Any]] | None = None
    view_permission: ClassVar[str]
    create_permission: ClassVar[str | None] = None
    change_permission: ClassVar[str]
    change_actions: ClassVar[tuple[str, ...]] = ()
    permissions: ClassVar[dict[str, str]]
    object_permissions: ClassVar[dict[str, str]]
    schema = RecordSchema()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        view = getattr(cls, "view_permission", None)
        change = getattr(cls, "change_permission", None)
        if view is None or change is None:
            return
        changing = ("update", "partial_update", *cls.change_actions)
        if "permissions" not in cls.__dict__:
            cls.permissions = {
                "list": view,
                "retrieve": view,
                "create": cls.create_permission or view,
                **dict.fromkeys(changing, view),
            }
        if "object_permissions" not in cls.__dict__:
            cls.object_permissions = dict.fromkeys(changing, change)

    def select_list(self) -> QuerySet[Any]:
        raise NotImplementedError

    def select_one(self, pk: Any) -> Any:
        raise NotImplementedError

    def fresh(self, record: Any) -> Any:
        """The record as an answer shows it, read again after a service has written it."""
        return self.select_one(record.pk)

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action in ("update", "partial_update") and self.update_serializer_class is not None:
            return self.update_serializer_class
        return self.serializer_class

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return self.model._default_manager.none()  # the schema is built with no caller to select for
        return self.select_list()

    def get_object(self) -> Any:
        record = self.select_one(self.kwargs["pk"])
        self.check_object_permissions(self.request, record)
        return record

    def answer(self, record: Any, code: int = status.HTTP_200_OK) -> Response:
        """The written record, read again and serialized whole: the answer to a create (201) or an edit."""
        data = self.serializer_class(self.fresh(record), context=self.get_serializer_context()).data
        return Response(data, status=code)

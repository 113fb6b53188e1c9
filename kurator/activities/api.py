"""/api/v1/notifications/: the caller's own notifications, and marking them read (R2)."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kurator.access.policy import AUTHENTICATED
from kurator.accounts.models import User
from kurator.activities import selectors, services
from kurator.activities.models import Notification

MAX_ID = 2**63 - 1


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "url", "created_at", "read_at", "is_read"]
        read_only_fields = fields

    def get_is_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_empty=True,
        max_length=1000,
        help_text="Notifications to mark read; omit to mark every unread notification read.",
    )


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every user reads only their own notifications; ``?unread=1`` keeps the unread ones."""

    serializer_class = NotificationSerializer
    permissions = {"list": AUTHENTICATED, "read": AUTHENTICATED}
    filterset_fields: list[str] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        unread_only = self.request.query_params.get("unread") in {"1", "true"}
        return selectors.notification_list(actor=cast(User, self.request.user), unread_only=unread_only)

    @extend_schema(
        request=MarkReadSerializer,
        responses=inline_serializer(
            "NotificationsMarkedRead",
            {"marked": serializers.IntegerField(), "unread": serializers.IntegerField()},
        ),
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def read(self, request: Request) -> Response:
        """Mark the given notifications (``ids``) or all unread ones read; answers how many changed."""
        payload = MarkReadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        actor = cast(User, request.user)
        ids = payload.validated_data.get("ids")
        marked = services.notification_mark_read(actor=actor, notification_ids=ids)
        return Response({"marked": marked, "unread": selectors.unread_count(actor=actor)})

"""Public API of the accounts app: API tokens and the read-only list of users."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kurator.access.api import PolicyPermission
from kurator.access.policy import AUTHENTICATED, PUBLIC
from kurator.accounts.models import Role, User
from kurator.accounts.selectors import user_get, user_list


class UserSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "role"]
        read_only_fields = fields


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (``Authorization: Token <key>``)."""

    permissions = {"*": PUBLIC}
    permission_classes = (PolicyPermission,)
    # No session authentication here: a browser's session cookie must not turn this into a CSRF check.
    authentication_classes = ()

    @extend_schema(
        operation_id="auth_token_create",
        request=AuthTokenSerializer,
        responses={
            200: inline_serializer("AuthToken", {"token": serializers.CharField(read_only=True)}),
            400: OpenApiResponse(description=str(_("Wrong username or password, or a missing field."))),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Active members of the department (R3: everyone sees the whole team) and the caller itself."""

    serializer_class = UserSerializer
    permissions = {"list": "accounts.view_user", "retrieve": "accounts.view_user", "me": AUTHENTICATED}
    filterset_fields = ["role"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return User.objects.none()
        return user_list(actor=self.request.user)

    def get_object(self) -> User:
        user = user_get(actor=self.request.user, user_id=self.kwargs["pk"])
        self.check_object_permissions(self.request, user)
        return user

    @extend_schema(responses=UserSerializer)
    @action(detail=False, methods=["get"], pagination_class=None, filterset_fields=[])
    def me(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

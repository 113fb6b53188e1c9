"""Public API of the accounts app: API tokens (issue, list, revoke) and the read-only list of users."""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from kurator.access.api import PolicyPermission
from kurator.access.policy import AUTHENTICATED, PUBLIC
from kurator.accounts.models import ApiToken, ApiTokenStatus, Role, User
from kurator.accounts.selectors import user_get, user_list
from kurator.accounts.services import user_deactivate
from kurator.accounts.throttle import SignInLocked, authenticate_throttled
from kurator.accounts.tokens import (
    api_token_create,
    api_token_get,
    api_token_list,
    api_token_revoke,
    visible_api_tokens,
)
from kurator.core.api import ActorMixin
from kurator.core.net import client_ip


class UserSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "role"]
        read_only_fields = fields


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("Username"), write_only=True)
    password = serializers.CharField(
        label=_("Password"), style={"input_type": "password"}, trim_whitespace=False, write_only=True
    )
    name = serializers.CharField(
        label=_("Token name"),
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("What the token is for (an integration, a script); shown in the list of tokens."),
    )


class TokenView(APIView):
    """Exchange a username and password for a new API token (``Authorization: Token <key>``).

    Every call makes a new token (listed and revocable at ``/api/v1/auth/tokens/``); sign-ins are throttled
    like the login page: repeated failures lock the username out for a while (429 with Retry-After)."""

    permissions = {"*": PUBLIC}
    permission_classes = (PolicyPermission,)
    # No session authentication here: a browser's session cookie must not turn this into a CSRF check.
    authentication_classes = ()

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("AuthToken", {"token": serializers.CharField(read_only=True)}),
            400: OpenApiResponse(description=str(_("Wrong username or password, or a missing field."))),
            429: OpenApiResponse(
                response=inline_serializer("SignInLocked", {"detail": serializers.CharField(read_only=True)}),
                description=str(_("Sign-in is locked after repeated failures; see the Retry-After header.")),
            ),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            user = authenticate_throttled(
                request=request._request, username=data["username"], password=data["password"]
            )
        except SignInLocked as exc:
            return Response(
                {"detail": exc.message},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(exc.lockout.retry_after)},
            )
        if user is None:
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [_("Unable to log in with the provided credentials.")]},
                code="authorization",
            )
        _token, key = api_token_create(actor=user, name=data["name"], request=request._request)
        return Response({"token": key})


class ApiTokenSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id", "user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at",
            "revoked_by", "status",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ApiTokenStatus.choices))
    def get_status(self, token: ApiToken) -> str:
        return str(token.status())


@extend_schema_view(
    list=extend_schema(
        tags=["auth"],
        parameters=[
            OpenApiParameter(
                "user",
                int,
                description=str(
                    _("Another user's tokens (the head of sales and the administrator); your own by default.")
                ),
            )
        ],
    ),
    retrieve=extend_schema(tags=["auth"]),
    revoke=extend_schema(tags=["auth"], request=None, responses=ApiTokenSerializer),
)
class ApiTokenViewSet(ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your API tokens (never their keys); revoke one you no longer need. The head of sales and the
    administrator see and revoke anyone's."""

    serializer_class = ApiTokenSerializer
    permissions = {"list": AUTHENTICATED, "retrieve": AUTHENTICATED, "revoke": AUTHENTICATED}
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        if self.action != "list":
            return visible_api_tokens(self.actor)
        raw = self.request.query_params.get("user") or ""
        if not raw:
            return api_token_list(actor=self.actor)
        try:
            owner_id = int(raw)
        except ValueError:
            raise serializers.ValidationError({"user": [_("Enter a whole number.")]}) from None
        if not 0 < owner_id < 2**63:
            return ApiToken.objects.none()
        return api_token_list(actor=self.actor, owner_id=owner_id)

    def get_object(self) -> ApiToken:
        token = api_token_get(actor=self.actor, token_id=self.kwargs["pk"])
        self.check_object_permissions(self.request, token)
        return token

    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: Any = None) -> Response:
        token = api_token_revoke(actor=self.actor, token=self.get_object(), request=request._request)
        return Response(ApiTokenSerializer(token).data)


# Ids are PostgreSQL bigints: a larger number is "not found", never a server error.
USER_MAX_ID = 2**63 - 1


class DeactivateSerializer(serializers.Serializer):
    successor = serializers.IntegerField(
        min_value=1,
        max_value=USER_MAX_ID,
        required=False,
        allow_null=True,
        help_text=_(
            "User id of who takes over the clients, open deals, open tasks and open inquiries; required "
            "while the user holds any."
        ),
    )
    reason = serializers.CharField(max_length=500, help_text=_("Why; kept in the history and the audit log."))


class DeactivationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    successor = serializers.IntegerField(read_only=True, allow_null=True)
    clients = serializers.IntegerField(read_only=True, help_text=_("Clients handed over."))
    deals = serializers.IntegerField(
        read_only=True, help_text=_("Open deals handed over (owned or co-owned, with the clients or alone).")
    )
    tasks = serializers.IntegerField(read_only=True, help_text=_("Open tasks handed over."))
    inquiries = serializers.IntegerField(read_only=True, help_text=_("Open inquiries handed over."))
    grants_revoked = serializers.IntegerField(read_only=True)
    requests_withdrawn = serializers.IntegerField(read_only=True)
    tokens_revoked = serializers.IntegerField(read_only=True)


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Active members of the department (R3: everyone sees the whole team) and the caller itself; the head of
    sales and the administrator deactivate someone who leaves, handing their work over (R2, R4)."""

    serializer_class = UserSerializer
    permissions = {
        "list": "accounts.view_user",
        "retrieve": "accounts.view_user",
        "me": AUTHENTICATED,
        "deactivate": "accounts.manage_users",
    }
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

    @extend_schema(request=DeactivateSerializer, responses=DeactivationSerializer, filters=False)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        """Deactivate a user who leaves (head of sales or administrator; an administrator only by an
        administrator). Their clients, open deals, open tasks and open inquiries go to ``successor`` in the
        same step; without one the call is refused (400) while any remain, the message listing them with
        counts. Their sessions end, API tokens, grants and pending access requests are revoked; nothing is
        deleted."""
        user = self.get_object()
        serializer = DeactivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        successor = serializer.validated_data.get("successor")
        result = user_deactivate(
            actor=cast(User, request.user),
            user=user,
            successor=successor,
            reason=serializer.validated_data["reason"],
            ip=client_ip(request) or None,
        )
        handover = result.handover
        return Response(
            DeactivationSerializer(
                {
                    "id": user.pk,
                    "is_active": False,
                    "successor": successor,
                    "clients": handover.clients,
                    "deals": handover.deals,
                    "tasks": handover.tasks,
                    "inquiries": handover.inquiries,
                    "grants_revoked": result.grants_revoked,
                    "requests_withdrawn": result.requests_withdrawn,
                    "tokens_revoked": result.tokens,
                }
            ).data
        )

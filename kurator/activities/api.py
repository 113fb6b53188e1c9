"""/api/v1/notifications/ (the caller's own notifications, and marking them read), /api/v1/activities/ (the
contact history, D3) and /api/v1/tasks/."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kurator.access.policy import AUTHENTICATED
from kurator.access.scoping import access_task_by_id, visible_companies
from kurator.accounts.models import User
from kurator.activities import selectors, services
from kurator.activities.models import Activity, ActivityKind, Notification, Task
from kurator.companies.api import IntegerFilter, RelatedIdField, RelatedIdsField
from kurator.core.api import versioned_fields
from kurator.core.viewsets import RecordViewSet

MAX_ID = 2**63 - 1
VIEW_ACTIVITY = "activities.view_activity"
VIEW_TASK = "activities.view_task"


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


# Contact history (D3) and tasks ----------------------------------------------------------------------------


class ActivitySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    company = RelatedIdField(help_text=_("The client the contact was with; fixed once logged."))
    deal = RelatedIdField(required=False, allow_null=True, help_text=_("A deal of the same client."))
    kind = serializers.ChoiceField(choices=ActivityKind.choices)
    occurred_at = serializers.DateTimeField(help_text=_("When it happened (not in the future)."))
    contacts = RelatedIdsField(
        required=False, max_length=200, help_text=_("Ids of the client's people who took part.")
    )
    users = RelatedIdsField(required=False, max_length=200, help_text=_("Ids of our users who took part."))
    subject = serializers.CharField(required=False, allow_blank=True, max_length=300)
    result = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_RESULT)
    next_step = serializers.CharField(required=False, allow_blank=True, max_length=500)
    next_step_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("With a date, the next step becomes a task of the author due that day at 10:00."),
    )
    author = RelatedIdField(read_only=True)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_(
            "On edit: the version you read. If someone saved the entry since, the edit is refused (409)."
        ),
    )
    edited = serializers.SerializerMethodField(
        help_text=_("Whether the entry was changed after it was logged.")
    )

    def get_edited(self, activity: Activity) -> bool:
        return bool(getattr(activity, "edited", False))


class ActivityUpdateSerializer(ActivitySerializer):
    company = RelatedIdField(read_only=True)


class ActivityFilter(django_filters.FilterSet):
    company = IntegerFilter(
        min_value=1, max_value=MAX_ID, method="filter_nothing", help_text=_("Company id.")
    )
    deal = IntegerFilter(min_value=1, max_value=MAX_ID, method="filter_nothing", help_text=_("Deal id."))
    kind = django_filters.ChoiceFilter(choices=ActivityKind.choices, method="filter_nothing")
    contact = IntegerFilter(
        min_value=1,
        max_value=MAX_ID,
        method="filter_nothing",
        help_text=_("Id of one of the client's people."),
    )
    user = IntegerFilter(
        min_value=1,
        max_value=MAX_ID,
        method="filter_nothing",
        help_text=_("Id of one of our users: entries they took part in or wrote."),
    )

    class Meta:
        model = Activity
        fields: list[str] = []

    def filter_nothing(self, queryset: QuerySet[Activity], name: str, value: Any) -> QuerySet[Activity]:
        return queryset  # the selector applies every filter in filter_queryset

    def filter_queryset(self, queryset: QuerySet[Activity]) -> QuerySet[Activity]:
        data = self.form.cleaned_data
        return selectors.activity_timeline(
            actor=self.request.user,
            company=data.get("company"),
            deal=data.get("deal"),
            kind=data.get("kind") or None,
            contact=data.get("contact"),
            user=data.get("user"),
        )


class ActivityViewSet(RecordViewSet):
    """The contact history (D3): every member reads every timeline (R3). Contacts are logged by the client's
    curator, the deal's owners or the head of sales (the author is the caller); only the author or the head
    of sales edits an entry (403 otherwise), and a stale ``version`` is refused with 409. Newest first."""

    model = Activity
    serializer_class = ActivitySerializer
    update_serializer_class = ActivityUpdateSerializer
    view_permission = VIEW_ACTIVITY
    create_permission = "activities.add_activity"
    change_permission = "activities.change_activity"
    filterset_class = ActivityFilter

    def select_list(self) -> QuerySet[Activity]:
        return selectors.activity_timeline(actor=self.actor)

    def select_one(self, pk: Any) -> Activity:
        return selectors.activity_get(actor=self.actor, activity_id=pk)

    def fresh(self, activity: Activity) -> Activity:
        return self.select_list().get(pk=activity.pk)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.answer(self.get_object())

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data, _version = versioned_fields(serializer)
        company_id = data.pop("company")
        company = visible_companies(self.actor).filter(pk=company_id).first()
        if company is None:
            raise DjangoValidationError(
                {"company": [DjangoValidationError(_("The company was not found."), code="not_found")]}
            )
        activity = services.activity_create(actor=self.actor, company=company, **data)
        serializer.instance = self.fresh(activity)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data, version = versioned_fields(serializer)
        activity = services.activity_update(
            actor=self.actor, activity=cast(Activity, serializer.instance), expected_version=version, **data
        )
        serializer.instance = self.fresh(activity)


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(max_length=300)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_NOTES)
    assignee = RelatedIdField(
        help_text=_("User id: an active sales person or administrator (finance does not take tasks).")
    )
    due_at = serializers.DateTimeField()
    company = RelatedIdField(required=False, allow_null=True)
    deal = RelatedIdField(
        required=False, allow_null=True, help_text=_("A deal; its company is taken with it.")
    )
    done = serializers.BooleanField(
        required=False, help_text=_("Set true to mark done, false to open again.")
    )
    done_at = serializers.DateTimeField(read_only=True, allow_null=True)
    activity = RelatedIdField(
        read_only=True, allow_null=True, help_text=_("The logged contact whose next step this task is.")
    )
    created_by = RelatedIdField(read_only=True, allow_null=True)


class TaskDoneSerializer(serializers.Serializer):
    done = serializers.BooleanField(default=True, help_text=_("false opens the task again."))


class TaskFilter(django_filters.FilterSet):
    assignee = IntegerFilter(min_value=1, max_value=MAX_ID, method="filter_nothing", help_text=_("User id."))
    done = django_filters.BooleanFilter(
        method="filter_nothing", help_text=_("Done or open ones; both by default.")
    )
    company = IntegerFilter(
        min_value=1, max_value=MAX_ID, method="filter_nothing", help_text=_("Company id.")
    )
    deal = IntegerFilter(min_value=1, max_value=MAX_ID, method="filter_nothing", help_text=_("Deal id."))

    class Meta:
        model = Task
        fields: list[str] = []

    def filter_nothing(self, queryset: QuerySet[Task], name: str, value: Any) -> QuerySet[Task]:
        return queryset

    def filter_queryset(self, queryset: QuerySet[Task]) -> QuerySet[Task]:
        data = self.form.cleaned_data
        return selectors.task_list(
            actor=self.request.user,
            assignee=data.get("assignee"),
            done=data.get("done"),
            company=data.get("company"),
            deal=data.get("deal"),
        )


class TaskViewSet(RecordViewSet):
    """Tasks: everyone sees what is planned with each client (R3); they are set by sales people and the head
    of sales, for themselves or a colleague (who is notified), and changed by their assignee, whoever set
    them, or the head of sales (403 otherwise). Soonest first, open ones before done ones."""

    model = Task
    serializer_class = TaskSerializer
    view_permission = VIEW_TASK
    create_permission = "activities.add_task"
    change_permission = "activities.change_task"
    change_actions = ("complete",)
    filterset_class = TaskFilter

    def select_list(self) -> QuerySet[Task]:
        return selectors.task_list(actor=self.actor, done=None)

    def select_one(self, pk: Any) -> Task:
        return access_task_by_id(self.actor, pk)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data = dict(serializer.validated_data)
        done = data.pop("done", False)
        task = services.task_create(actor=self.actor, **data)
        if done:
            task = services.task_complete(actor=self.actor, task=task, done=True)
        serializer.instance = task

    @transaction.atomic
    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data = dict(serializer.validated_data)
        done = data.pop("done", None)
        task = services.task_update(actor=self.actor, task=cast(Task, serializer.instance), **data)
        if done is not None:
            task = services.task_complete(actor=self.actor, task=task, done=done)
        serializer.instance = task

    @extend_schema(request=TaskDoneSerializer, responses=TaskSerializer, filters=False)
    @action(detail=True, methods=["post"], filter_backends=[])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        """Mark the task done (``{"done": false}`` opens it again); doing it twice changes nothing."""
        payload = TaskDoneSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        task = services.task_complete(
            actor=self.actor, task=self.get_object(), done=payload.validated_data["done"]
        )
        return Response(TaskSerializer(task).data)

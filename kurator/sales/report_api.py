"""The funnel from the API (S3): ``GET /api/v1/reports/funnel/?from=&to=&pipeline=`` answers the numbers the
funnel page shows (kurator.sales.reports.funnel_report)."""

from __future__ import annotations

from typing import cast

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kurator.accounts.models import User
from kurator.sales import reports
from kurator.sales.forms import FunnelForm

FUNNEL_PARAMETERS = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description=_("First day (default: the first of the month).")
    ),
    OpenApiParameter("to", OpenApiTypes.DATE, description=_("Last day, included (default: today).")),
    OpenApiParameter(
        "pipeline", OpenApiTypes.INT, description=_("Pipeline id (default: the default pipeline).")
    ),
]


class FunnelStageSerializer(serializers.Serializer):
    stage = serializers.IntegerField(source="stage.pk")
    code = serializers.CharField(source="stage.code")
    name = serializers.CharField(source="stage.name")
    kind = serializers.CharField(source="stage.kind")
    entered = serializers.IntegerField(help_text=_("Deals that entered the stage in the period."))
    passed = serializers.IntegerField(
        help_text=_(
            "Of those, the deals that later entered a further stage (a skipped stage counts as passed)."
        )
    )
    next_stage = serializers.IntegerField(source="next_stage.pk", allow_null=True, default=None)
    conversion = serializers.FloatField(allow_null=True, help_text=_("passed / entered, %."))
    average_days = serializers.FloatField(
        allow_null=True, help_text=_("Average length of the closed stays begun in the period, days.")
    )
    closed_stays = serializers.IntegerField()


class WinRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="key", allow_null=True)
    name = serializers.CharField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True, help_text=_("won / (won + lost), %."))


class FunnelReportSerializer(serializers.Serializer):
    date_from = serializers.DateField(source="period.date_from")
    date_to = serializers.DateField(source="period.date_to")
    pipeline = serializers.IntegerField(source="pipeline.pk", allow_null=True)
    stages = FunnelStageSerializer(many=True)
    managers = WinRowSerializer(many=True, help_text=_("Win rate by the deals' owners."))
    sources = WinRowSerializer(
        many=True, help_text=_("Win rate by the deals' sources (id null: none given).")
    )
    totals = WinRowSerializer()


class FunnelReportView(APIView):
    """S3: the funnel of a pipeline for a period — entries per stage, conversion, average days per stage, and
    the win rate by manager and by source among the deals closed in the period."""

    permissions = {"get": "sales.view_funnel"}

    @extend_schema(parameters=FUNNEL_PARAMETERS, responses=FunnelReportSerializer)
    def get(self, request: Request) -> Response:
        form = FunnelForm(request.query_params)
        if not form.is_valid():
            raise ValidationError({name: [str(m) for m in errors] for name, errors in form.errors.items()})
        period = form.period()
        report = reports.funnel_report(
            actor=cast(User, request.user),
            date_from=period.date_from,
            date_to=period.date_to,
            pipeline=form.pipeline(),
        )
        # Rows without a name read as the page shows them, not as an empty string.
        for row in report.sources:
            if row.key is None and not row.name:
                row.name = gettext("No source given")
        if not report.totals.name:
            report.totals.name = gettext("Total")
        return Response(FunnelReportSerializer(report).data)

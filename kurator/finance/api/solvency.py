"""API of the confidential solvency section (D4, R4).

- ``/api/v1/financial-statements/``: the client's figures by year. The list holds only the statements the
  caller may see (:func:`kurator.access.scoping.visible_financial_statements`: the head of sales, finance and
  the administrator every client's, a manager only those of the clients they curate); ``?company=`` and
  ``?year=`` narrow it. Finance, the head of sales and the curator add and correct them
  (``finance.change_financial_statement``); ``POST …/import/`` takes a CSV/XLSX file (all or nothing).
- ``GET /api/v1/companies/{id}/solvency/``: rating, factors, ratios, payment discipline and the suggested
  credit limit (formulas: :mod:`kurator.finance.selectors.solvency`); 403 for whoever may not see it, 404 for
  an unknown company.

Amounts and ratios are decimal strings.

Audit (D12): each answer of the solvency endpoint is logged (VIEW_SOLVENCY, with the rule or grant that
allowed it, or ``no_grant``), and so is each read of statements (VIEW_STATEMENTS): a record, or a list — one
line per page, for the client asked for with ``?company=`` or, for a list of every visible client, under the
caller's office (``scoped`` for a seller: their own clients and those a grant opens).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kurator.access.audit import audit_record
from kurator.access.confidential import REFUSED_NO_GRANT, clearance
from kurator.access.models import AuditAction
from kurator.access.policy import REFUSALS, can
from kurator.access.scoping import access_company_by_id, visible_companies, visible_financial_statements
from kurator.companies.api import MAX_ID, IntegerFilter, RelatedIdField, _id_filter
from kurator.companies.models import Company
from kurator.core.api import ActorMixin, money_field, versioned_fields
from kurator.core.errors import AccessDenied
from kurator.core.net import client_ip
from kurator.finance.models import FinancialStatement
from kurator.finance.selectors import solvency as selectors
from kurator.finance.services import solvency as services

MEMBERS = "companies.view_company"
VIEW = "finance.view_solvency"
CHANGE = "finance.change_financial_statement"


def _audit(request: Request, *, action: str, allowed: bool, rule: str, **kwargs: Any) -> None:
    """One line of the audit log for an API read; the user is the API's (a token's user too)."""
    audit_record(
        action=action,
        allowed=allowed,
        rule=rule,
        user=request.user,
        ip=client_ip(request._request) or None,
        **kwargs,
    )


def _rule(actor: Any, company: Any) -> tuple[bool, str]:
    """Whether the policy lets ``actor`` see ``company``'s figures, and the rule or grant that says so."""
    allowed = can(actor, VIEW, company)
    cleared = clearance(actor, company)
    if cleared.allowed == allowed:
        return allowed, cleared.rule
    return allowed, "policy" if allowed else REFUSED_NO_GRANT


def _money(help_text: Any = None, **kwargs: Any) -> serializers.DecimalField:
    kwargs.setdefault("read_only", True)
    return money_field(allow_null=True, help_text=help_text, **kwargs)


def _figure(help_text: Any) -> serializers.DecimalField:
    return _money(help_text, read_only=False, required=False)


def _ratio(help_text: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=20,
        decimal_places=4,
        coerce_to_string=True,
        allow_null=True,
        read_only=True,
        help_text=help_text,
    )


def _office_rule(actor: Any) -> str:
    """The rule a list of every visible client's statements is read under: the office that opens them all,
    or ``scoped`` (a seller's own clients and those a live grant opens)."""
    rule = clearance(actor, None).rule
    return rule if rule in ("admin", "head_of_sales", "finance") else "scoped"


# Statements -----------------------------------------------------------------------------------------------


class FinancialStatementSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    company = RelatedIdField(help_text=_("Id of the client company; it cannot change."))
    year = serializers.IntegerField(min_value=services.YEAR_MIN, max_value=services.YEAR_MAX)
    revenue = _figure(_("Revenue, roubles; not negative; null when unknown."))
    net_profit = _figure(_("Net profit, roubles; a loss is negative; null when unknown."))
    total_assets = _figure(_("Total assets, roubles; not negative; null when unknown."))
    equity = _figure(_("Equity, roubles; may be negative; null when unknown."))
    liabilities = _figure(_("Liabilities, roubles; not negative; null when unknown."))
    current_assets = _figure(_("Current assets, roubles; at most the total assets."))
    current_liabilities = _figure(_("Current liabilities, roubles; at most the liabilities."))
    source = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.source
        read_only=True, help_text=_("manual or import.")
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("On edit: the version you read. If someone saved the statement since, 409."),
    )


class FinancialStatementUpdateSerializer(FinancialStatementSerializer):
    company = RelatedIdField(read_only=True)
    year = serializers.IntegerField(min_value=services.YEAR_MIN, max_value=services.YEAR_MAX, required=False)


class StatementImportSerializer(serializers.Serializer):
    company = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=_("Id of the client company.")
    )
    file = serializers.FileField(
        help_text=_(
            "CSV (UTF-8 or Windows-1251, “;” or “,”) or XLSX, a row per year; Russian or English headings."
        )
    )


class StatementImportResultSerializer(serializers.Serializer):
    created = serializers.ListField(child=serializers.IntegerField(), help_text=_("Years added."))
    updated = serializers.ListField(
        child=serializers.IntegerField(), help_text=_("Years already entered whose figures were replaced.")
    )
    message = serializers.CharField()
    statements = FinancialStatementSerializer(many=True)


class FinancialStatementFilter(django_filters.FilterSet):
    company = _id_filter("company_id", _("Client company id."))
    year = IntegerFilter(field_name="year", min_value=1, max_value=9999, help_text=_("Year."))

    class Meta:
        model = FinancialStatement
        fields: list[str] = []


@extend_schema_view(
    create=extend_schema(request=FinancialStatementSerializer, responses={201: FinancialStatementSerializer}),
    update=extend_schema(request=FinancialStatementUpdateSerializer, responses=FinancialStatementSerializer),
    partial_update=extend_schema(
        request=FinancialStatementUpdateSerializer, responses=FinancialStatementSerializer
    ),
)
class FinancialStatementViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The client's financial statements by year (D4). Confidential (R4): the list and the records hold only
    what the caller may see — the head of sales, finance and the administrator every client's, a manager
    those of the clients they curate. Finance, the head of sales and the curator add and correct them."""

    permissions = {
        "list": MEMBERS,
        "retrieve": MEMBERS,
        "create": MEMBERS,
        "update": MEMBERS,
        "partial_update": MEMBERS,
        "import_file": MEMBERS,
    }
    object_permissions = {"update": CHANGE, "partial_update": CHANGE}
    filterset_class = FinancialStatementFilter

    def policy_object(self, statement: FinancialStatement) -> Any:
        return statement.company

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action in ("update", "partial_update"):
            return FinancialStatementUpdateSerializer
        if self.action == "import_file":
            return StatementImportSerializer
        return FinancialStatementSerializer

    def get_queryset(self) -> QuerySet[FinancialStatement]:
        if getattr(self, "swagger_fake_view", False):
            return FinancialStatement.objects.none()
        return selectors.statement_list(actor=self.actor)

    def get_object(self) -> FinancialStatement:
        try:
            statement = (
                visible_financial_statements(self.actor)
                .select_related("company")
                .get(pk=int(self.kwargs["pk"]))
            )
        except (FinancialStatement.DoesNotExist, TypeError, ValueError):
            if self.action == "retrieve":
                self._audit_refused_record()
            raise Http404 from None
        self.check_object_permissions(self.request, statement)
        if self.action == "retrieve":
            _allowed, rule = _rule(self.actor, statement.company)
            _audit(
                self.request,
                action=AuditAction.VIEW_STATEMENTS,
                allowed=True,
                rule=rule,
                obj=statement,
                company=statement.company,
            )
        return statement

    def _audit_refused_record(self) -> None:
        """A guessed id of a statement the caller may not read: 404 like an unknown one, but logged."""
        try:
            pk = int(self.kwargs["pk"])
        except (TypeError, ValueError):
            return
        company_id = FinancialStatement.objects.filter(pk=pk).values_list("company_id", flat=True).first()
        if company_id is None:
            return
        _audit(
            self.request,
            action=AuditAction.VIEW_STATEMENTS,
            allowed=False,
            rule=REFUSED_NO_GRANT,
            obj=FinancialStatement(pk=pk, company_id=company_id),
            company=Company(pk=company_id),
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        count = response.data.get("count") if isinstance(response.data, dict) else None
        company_id = self.filterset_class(request.query_params).form.data.get("company")
        company = None
        if company_id:
            try:
                company = visible_companies(self.actor).filter(pk=int(company_id)).first()
            except (TypeError, ValueError, OverflowError):
                company = None
        if company is not None:
            allowed, rule = _rule(self.actor, company)
        else:
            allowed, rule = True, _office_rule(self.actor)
        _audit(
            request,
            action=AuditAction.VIEW_STATEMENTS,
            allowed=allowed,
            rule=rule,
            company=company,
            detail=f"list: {count} statements" if count is not None else "list",
        )
        return response

    def _company(self, company_id: Any) -> Any:
        company = visible_companies(self.actor).filter(pk=company_id).first()
        if company is None:
            raise ValidationError(
                {"company": [ValidationError(_("The company was not found."), code="invalid")]}
            )
        return company

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = FinancialStatementSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, _version = versioned_fields(serializer)
        company = self._company(data.pop("company"))
        statement = services.statement_create(actor=self.actor, company=company, **data)
        return Response(FinancialStatementSerializer(statement).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        statement = self.get_object()
        sent = request.data.get("company") if hasattr(request.data, "get") else None
        if sent not in (None, "") and str(sent) != str(statement.company_id):
            raise ValidationError(
                {
                    "company": [
                        ValidationError(_("The client of a statement cannot change."), code="read_only")
                    ]
                }
            )
        serializer = FinancialStatementUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data, version = versioned_fields(serializer)
        statement = services.statement_update(
            actor=self.actor, statement=statement, expected_version=version, **data
        )
        return Response(FinancialStatementSerializer(statement).data)

    @extend_schema(
        request={"multipart/form-data": StatementImportSerializer},
        responses={
            200: StatementImportResultSerializer,
            400: OpenApiResponse(description=_("The file is refused: every bad line and column is named.")),
        },
        filters=False,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        filter_backends=[],
        pagination_class=None,
    )
    def import_file(self, request: Request) -> Response:
        """Import a client's statements by year from a file (D4): all or nothing; a year already entered is
        updated (``updated``), a new one added (``created``)."""
        serializer = StatementImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        company = self._company(serializer.validated_data["company"])
        upload = serializer.validated_data["file"]
        result = services.statement_import(
            actor=self.actor, company=company, data=upload.read(), filename=upload.name
        )
        return Response(
            {
                "created": result.created,
                "updated": result.updated,
                "message": result.message,
                "statements": FinancialStatementSerializer(result.statements, many=True).data,
            }
        )


# The company's solvency -----------------------------------------------------------------------------------


class FactorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text=_(
            "current_liquidity, equity_ratio, net_margin, share_paid_late, worst_days_late or "
            "current_overdue."
        )
    )
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    unit = serializers.CharField(help_text=_("ratio, percent (a fraction: 0.25 is 25 %) or days."))
    value = serializers.CharField(allow_null=True, help_text=_("A decimal string; null when unknown."))
    verdict = serializers.CharField(help_text=_("good, fair, weak, poor or unknown."))
    points = serializers.IntegerField(allow_null=True, help_text=_("0–3; null when unknown (not scored)."))
    max_points = serializers.IntegerField()


class RatiosSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    current_liquidity = _ratio(_("Current assets / current liabilities."))
    equity_ratio = _ratio(_("Equity / total assets."))
    net_margin = _ratio(_("Net profit / revenue."))


class DisciplineSerializer(serializers.Serializer):
    invoices_counted = serializers.IntegerField(
        help_text=_("Invoices paid in full plus open invoices past their due date.")
    )
    late_count = serializers.IntegerField()
    share_paid_late = _ratio(_("late / counted; null when nothing is counted."))
    average_days_late = serializers.DecimalField(
        max_digits=10,
        decimal_places=1,
        coerce_to_string=True,
        allow_null=True,
        help_text=_("Over the late ones."),
    )
    worst_days_late = serializers.IntegerField(allow_null=True)
    overdue_count = serializers.IntegerField()
    overdue_amount = _money(_("Balance of the open overdue invoices."))
    oldest_overdue_days = serializers.IntegerField(allow_null=True)


class LimitBasisSerializer(serializers.Serializer):
    invoiced_12_months = _money()
    monthly_average = _money()
    multiplier = serializers.DecimalField(
        max_digits=4, decimal_places=1, coerce_to_string=True, allow_null=True
    )
    # xgettext:no-python-format
    equity_cap = _money(_("20 % of the latest equity (0 when it is not positive); null when unknown."))


class SolvencySerializer(serializers.Serializer):
    rating = serializers.CharField(allow_null=True, help_text=_("A, B, C or D; null with too little data."))
    rating_reason = serializers.CharField()
    score = _ratio(_("The share of the points the known factors could give."))
    factors = FactorSerializer(many=True)
    ratios = RatiosSerializer(many=True, help_text=_("Per year, newest first."))
    payment_discipline = DisciplineSerializer()
    suggested_credit_limit = _money(_("Null when there is no rating."))
    credit_limit_basis = LimitBasisSerializer()
    credit_limit = _money(_("The client's current credit limit, if set."))
    latest_year = serializers.IntegerField(allow_null=True)


class CompanySolvencyView(ActorMixin, APIView):
    """D4/R4: the client's rating with its factors, ratios by year, payment discipline and the suggested
    credit limit. Confidential: the curator, the head of sales, finance and the administrator (403 for the
    others)."""

    permissions = {"get": MEMBERS}

    @extend_schema(responses={200: SolvencySerializer, 403: OpenApiResponse(), 404: OpenApiResponse()})
    def get(self, request: Request, pk: int) -> Response:
        company = access_company_by_id(self.actor, pk)
        allowed, rule = _rule(self.actor, company)
        _audit(request, action=AuditAction.VIEW_SOLVENCY, allowed=allowed, rule=rule, obj=company)
        if not allowed:
            raise AccessDenied(str(REFUSALS[VIEW]))
        data = selectors.company_solvency(company=company)
        data["factors"] = [
            {**f, "value": None if f["value"] is None else str(f["value"])} for f in data["factors"]
        ]
        return Response(SolvencySerializer(data).data)


# (prefix, viewset, basename) for the /api/v1/ router, and extra paths under /api/v1/.
ROUTES: list[tuple[str, Any, str]] = [
    ("financial-statements", FinancialStatementViewSet, "financial-statement"),
]
PATHS: list[URLPattern] = [
    path("companies/<int:pk>/solvency/", CompanySolvencyView.as_view(), name="company-solvency"),
]

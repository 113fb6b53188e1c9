"""API of the area: bank statements in the 1C exchange format and the review queue of unplaced payments (D6).

``POST /api/v1/bank-statements/`` takes a multipart ``file`` (1CClientBankExchange) and answers the statement
with the payments it matched and queued and how many were already imported; a malformed file answers
``400 {"file": ["Line 23: …"], "line": 23}`` and writes nothing. ``/api/v1/bank-payments/`` is the review
queue (``?review_status=pending`` by default) with ``resolve`` and ``dismiss``. Finance and the head of sales
only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import ValidationError as DRFValidationError

from kurator.companies.api import MAX_ID
from kurator.core.api import ActorMixin, money_field
from kurator.finance import onec
from kurator.finance.models import BankStatement, Payment, ReviewStatus
from kurator.finance.selectors import bank as selectors
from kurator.finance.services import bank as services

PERMISSION = "finance.import_bank_statement"
REVIEW_FILTERS = ("pending", "resolved", "dismissed", "all")


class BankAllocationSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(source="invoice_id")
    invoice_number = serializers.CharField(source="invoice.number")
    amount = money_field()


class BankPaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    company = serializers.IntegerField(
        source="company_id",
        allow_null=True,
        help_text=_("The client; set on a pending payment when its INN matched but its invoice did not."),
    )
    paid_on = serializers.DateField()
    amount = money_field()
    reference = serializers.CharField(help_text=_("The bank document's number."))
    purpose = serializers.CharField()
    payer_name = serializers.CharField()
    payer_inn = serializers.CharField()
    payer_kpp = serializers.CharField()
    payer_account = serializers.CharField()
    statement = serializers.IntegerField(source="statement_id", allow_null=True)
    review_status = serializers.ChoiceField(choices=ReviewStatus.choices)
    review_reason = serializers.CharField()
    reviewed_by = serializers.IntegerField(source="reviewed_by_id", allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    allocated = money_field()
    credit = money_field(help_text=_("What is not allocated: the client's credit."))
    allocations = BankAllocationSerializer(many=True, source="allocations.all")
    version = serializers.IntegerField()


class ImportedPaymentSerializer(BankPaymentSerializer):
    matched_by = serializers.SerializerMethodField(
        help_text=_("invoice_number (the number in the purpose) or amount (the one open invoice of it).")
    )

    def get_matched_by(self, payment: Payment) -> str:
        return str(self.context.get("matched_by", {}).get(payment.pk, ""))


class BankStatementSerializer(serializers.ModelSerializer):
    class Meta:
        model = BankStatement
        fields = [
            "id",
            "file_name",
            "account",
            "date_from",
            "date_to",
            "documents_count",
            "incoming_count",
            "matched_count",
            "queued_count",
            "duplicate_count",
            "uploaded_by",
            "created_at",
        ]
        read_only_fields = fields


class StatementImportSerializer(BankStatementSerializer):
    matched = ImportedPaymentSerializer(many=True, help_text=_("Payments placed with a client."))
    queued = BankPaymentSerializer(many=True, help_text=_("Payments waiting in the review queue."))

    class Meta(BankStatementSerializer.Meta):
        fields = [*BankStatementSerializer.Meta.fields, "matched", "queued"]
        read_only_fields = fields


class StatementUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("The 1C exchange file (1CClientBankExchange)."))


class StatementErrorSerializer(serializers.Serializer):
    file = serializers.ListField(child=serializers.CharField())
    # Absent when the upload itself is wrong (no file): the error is then on ``file`` alone.
    line = serializers.IntegerField(
        allow_null=True, required=False, help_text=_("The line of the file that is wrong.")
    )


class ResolveAllocationSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    amount = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text=_("Omitted: what fits of the invoice's balance."),
    )


class ResolveSerializer(serializers.Serializer):
    company = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("The client who paid."))
    allocations = ResolveAllocationSerializer(
        many=True,
        required=False,
        help_text=_("Invoices of the client it pays; none: the oldest open invoices first."),
    )
    version = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text=_("Why this is not a client payment."))
    version = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


@extend_schema_view(
    create=extend_schema(
        request={"multipart/form-data": StatementUploadSerializer},
        responses={
            201: StatementImportSerializer,
            400: OpenApiResponse(
                StatementErrorSerializer, description=_("A malformed file, or one imported before.")
            ),
        },
    ),
)
class BankStatementViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Bank statements imported in the 1C exchange format (D6)."""

    serializer_class = BankStatementSerializer
    permissions = {"list": PERMISSION, "retrieve": PERMISSION, "create": PERMISSION}
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[BankStatement]:
        if getattr(self, "swagger_fake_view", False):
            return BankStatement.objects.none()
        return selectors.bank_statements(actor=self.actor)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Import the incoming payments of a statement: matched to clients by INN and to invoices by the
        number in the purpose or by amount; the rest waits for review. A document imported before is
        counted in ``duplicate_count`` and adds nothing; a file identical to one imported before is refused
        (400 on ``file``) and records no statement."""
        upload = StatementUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            result = services.bank_statement_import(actor=self.actor, file=upload.validated_data["file"])
        except onec.StatementError as exc:
            return Response({"file": [exc.text], "line": exc.line}, status=status.HTTP_400_BAD_REQUEST)
        ids = [p.pk for p in result.matched + result.queued]
        payments = {p.pk: p for p in selectors.bank_payments(actor=self.actor).filter(pk__in=ids)}
        data = {
            **BankStatementSerializer(result.statement).data,
            "matched": ImportedPaymentSerializer(
                [payments[p.pk] for p in result.matched], many=True, context={"matched_by": result.matched_by}
            ).data,
            "queued": BankPaymentSerializer([payments[p.pk] for p in result.queued], many=True).data,
        }
        return Response(data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "review_status",
                enum=list(REVIEW_FILTERS),
                description=str(_("pending (the default: the review queue), resolved, dismissed or all.")),
            )
        ]
    ),
)
class BankPaymentViewSet(
    ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Payments imported from bank statements; the review queue of those Kurator could not place (D6)."""

    serializer_class = BankPaymentSerializer
    permissions = {
        "list": PERMISSION,
        "retrieve": PERMISSION,
        "resolve": PERMISSION,
        "dismiss": PERMISSION,
    }
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self) -> QuerySet[Payment]:
        if getattr(self, "swagger_fake_view", False):
            return Payment.objects.none()
        payments = selectors.bank_payments(actor=self.actor)
        if self.action != "list":
            return payments
        wanted = self.request.query_params.get("review_status", "pending")
        if wanted not in REVIEW_FILTERS:
            raise DRFValidationError({"review_status": [_("Choose pending, resolved, dismissed or all.")]})
        return payments if wanted == "all" else payments.filter(review_status=wanted)

    def _answer(self, payment: Payment) -> Response:
        fresh = selectors.bank_payments(actor=self.actor).get(pk=payment.pk)
        return Response(BankPaymentSerializer(fresh).data)

    @extend_schema(request=ResolveSerializer, responses={200: BankPaymentSerializer}, filters=False)
    @action(detail=True, methods=["post"], filter_backends=[])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Say whose a queued payment is; it is allocated to the given invoices, or to the client's open
        invoices oldest first; the rest is the client's credit."""
        payment = self.get_object()
        serializer = ResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        payment = services.bank_payment_resolve(
            actor=self.actor,
            payment=payment,
            company=data["company"],
            allocations=[(item["invoice"], item.get("amount")) for item in data.get("allocations", [])],
            expected_version=data.get("version"),
        )
        return self._answer(payment)

    @extend_schema(request=DismissSerializer, responses={200: BankPaymentSerializer}, filters=False)
    @action(detail=True, methods=["post"], filter_backends=[])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        """Not a client payment (a refund, our own transfer): out of the queue with the reason, kept."""
        payment = self.get_object()
        serializer = DismissSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = services.bank_payment_dismiss(
            actor=self.actor,
            payment=payment,
            reason=serializer.validated_data["reason"],
            expected_version=serializer.validated_data.get("version"),
        )
        return self._answer(payment)


# (prefix, viewset, basename) for the /api/v1/ router, and extra paths under /api/v1/.
ROUTES: list[tuple[str, Any, str]] = [
    ("bank-statements", BankStatementViewSet, "bank-statement"),
    ("bank-payments", BankPaymentViewSet, "bank-payment"),
]
PATHS: list[Any] = []

"""The finance models, one module per area; Django finds them all here."""

from kurator.finance.models.bank import BankStatement
from kurator.finance.models.conflicts import (
    OPEN_CONFLICT_STATUSES,
    Conflict,
    ConflictSeverity,
    ConflictStatus,
)
from kurator.finance.models.contracts import (
    SIGNED_STATUSES,
    Contract,
    ContractStatus,
    Obligation,
    ObligationParty,
)
from kurator.finance.models.orders import (
    PURCHASE_STATUSES,
    ApprovalStatus,
    CreditApproval,
    CreditLimit,
    Order,
    OrderLine,
    OrderStatus,
    Product,
)
from kurator.finance.models.receivables import (
    OPEN_INVOICE_STATUSES,
    Allocation,
    CollectionAction,
    CollectionKind,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentSource,
    ReviewStatus,
)
from kurator.finance.models.solvency import FinancialStatement, StatementSource

__all__ = [
    "OPEN_CONFLICT_STATUSES",
    "OPEN_INVOICE_STATUSES",
    "PURCHASE_STATUSES",
    "SIGNED_STATUSES",
    "Allocation",
    "ApprovalStatus",
    "BankStatement",
    "CollectionAction",
    "CollectionKind",
    "Conflict",
    "ConflictSeverity",
    "ConflictStatus",
    "Contract",
    "ContractStatus",
    "CreditApproval",
    "CreditLimit",
    "FinancialStatement",
    "Invoice",
    "InvoiceStatus",
    "Obligation",
    "ObligationParty",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Payment",
    "PaymentSource",
    "Product",
    "ReviewStatus",
    "StatementSource",
]

"""The clients and invoices ``data/statement_two_matched_one_queued.txt`` expects (D6).

The statement (Windows-1251, 23–24.11.2026, our account 40702810680320589945, ООО «Куратор», INN 9336732936)
holds four payment orders:

=====  ==========  ===========  ========================================  ===================================
№      date        amount       payer (INN / KPP)                         purpose → what the import does
=====  ==========  ===========  ========================================  ===================================
512    23.11.2026  150 000,00   ООО «Альфа-Снаб» 7384916513 / 738401002   «Оплата по счету № 123 от
                                                                          02.11.2026 …» → invoice 123 by its
                                                                          number (150 000,00, paid in full)
77     23.11.2026   48 500,00   ООО «Бета Трейд» 2589805396 / 258901002   no invoice number → invoice 245, the
                                                                          client's one open invoice of
                                                                          48 500,00 (by amount)
3091   24.11.2026   27 300,00   ООО «Гамма Логистик» 7417400290 /         no client has the INN → the review
                                741701003                                 queue
845    24.11.2026   18 000,00   from our account to ООО «Ромашка-Сервис»  outgoing → ignored
=====  ==========  ===========  ========================================  ===================================

:func:`statement_clients` creates Альфа-Снаб with invoice 123 (150 000,00, 02.11.2026) and an older open
invoice 118 (30 000,00, 20.10.2026) — the number, not age, decides — and Бета Трейд with invoices 244
(12 000,00, 01.11.2026, older) and 245 (48 500,00, 05.11.2026). Гамма Логистик is deliberately absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.finance.models import Invoice
from kurator.finance.tests.factories_receivables import invoice_factory
from tests.factories import company_factory

DATA = Path(__file__).parent / "data"
STATEMENT = DATA / "statement_two_matched_one_queued.txt"
OUR_ACCOUNT = "40702810680320589945"
ALPHA_INN, ALPHA_KPP = "7384916513", "738401002"
BETA_INN, BETA_KPP = "2589805396", "258901002"
GAMMA_INN, GAMMA_KPP = "7417400290", "741701003"


@dataclass
class StatementClients:
    alpha: Company
    beta: Company
    alpha_123: Invoice
    alpha_118: Invoice
    beta_244: Invoice
    beta_245: Invoice


def statement_clients(*, curator: User, finance: User) -> StatementClients:
    alpha = company_factory(
        actor=curator, full_name="ООО «Альфа-Снаб»", short_name="Альфа-Снаб", inn=ALPHA_INN, kpp=ALPHA_KPP
    )
    beta = company_factory(
        actor=curator, full_name="ООО «Бета Трейд»", short_name="Бета Трейд", inn=BETA_INN, kpp=BETA_KPP
    )

    def invoice(company: Company, number: str, amount: str, issued_on: date) -> Invoice:
        return invoice_factory(
            actor=finance,
            company=company,
            number=number,
            amount=Decimal(amount),
            issued_on=issued_on,
            due_on=date(issued_on.year, issued_on.month, issued_on.day + 10),
        )

    return StatementClients(
        alpha=alpha,
        beta=beta,
        alpha_118=invoice(alpha, "118", "30000.00", date(2026, 10, 20)),
        alpha_123=invoice(alpha, "123", "150000.00", date(2026, 11, 2)),
        beta_244=invoice(beta, "244", "12000.00", date(2026, 11, 1)),
        beta_245=invoice(beta, "245", "48500.00", date(2026, 11, 5)),
    )


def statement_bytes() -> bytes:
    return STATEMENT.read_bytes()

"""D6, R4: the invoice and payment lists take whatever is typed into their filters without a server error
(found by tests/security/test_sql_like_input.py): an id beyond 64 bits (SQLite cannot bind it) and a NUL
byte (PostgreSQL refuses it in text) filter nothing out instead of failing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kurator.finance.selectors.receivables import payment_list
from kurator.finance.tests.factories_receivables import payment_factory

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


@pytest.mark.parametrize("page", ["finance:invoices", "finance:payments"])
@pytest.mark.parametrize(
    "query",
    [
        {"company": HUGE},
        {"company": "-1"},
        {"company": "1 OR 1=1"},
        {"q": "\x00"},
        {"q": "a\x00b' OR 1=1 --"},
    ],
)
def test_odd_filters_on_the_invoice_and_payment_lists_are_no_server_error(manager, page, query):
    """D6, R4: odd filter values answer the list (200), never a 500."""
    client = Client()
    client.force_login(manager)
    response = client.get(reverse(page), query)
    assert response.status_code == 200


def test_payment_list_with_an_id_beyond_64_bits_or_a_nul_finds_nothing(manager, finance, company):
    """D6: such a filter names no client and no reference; a NUL inside a search is dropped."""
    payment = payment_factory(actor=finance, company=company, reference="ПП-77")
    assert list(payment_list(actor=manager, company=HUGE)) == []
    assert list(payment_list(actor=manager, company=0)) == []
    assert list(payment_list(actor=manager, q="ПП\x00-77")) == [payment]

"""The catalogue, order, Purchases tab and credit-approval pages (D8, D9, D6): what each role sees and does,
constant query counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from kurator.finance.models import CreditApproval, Order, Product
from kurator.finance.tests.factories_orders import (
    category_factory,
    credit_limit_factory,
    line,
    order_factory,
    product_factory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with override("en"):
        yield


def browser(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_purchases_tab_shows_statistics_limit_and_orders(manager, company):
    """D8/D9: the tab shows the computed statistics in roubles, the categories bought, the exposure and the
    client's orders with status badges."""
    product = product_factory(name="Кабель", category=category_factory("Кабели"), base_price="1500")
    order_factory(company=company, actor=manager, lines=[line(product, 2)], status="completed")
    draft = order_factory(company=company, actor=manager, lines=[line(product, 1)])
    response = browser(manager).get(reverse("finance:company_purchases", args=[company.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "3\u00a0000,00\u00a0₽" in html  # total and average
    assert "Кабели" in html
    assert f'data-testid="order-row-{draft.pk}"' in html
    assert 'data-status="completed"' in html and 'data-testid="new-order"' in html
    assert 'data-testid="credit-limit-form"' not in html  # a seller does not set limits


def test_purchases_tab_runs_constant_queries(manager, company, django_assert_max_num_queries):
    """D8: the tab costs the same with 1 order as with 30 (paginated, 25 a page)."""
    product = product_factory(base_price="10")
    order_factory(company=company, actor=manager, lines=[line(product, 1)], status="confirmed")
    client = browser(manager)
    url = reverse("finance:company_purchases", args=[company.pk])
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(30):
        order_factory(company=company, actor=manager, lines=[line(product, 1)], status="confirmed")
    with django_assert_max_num_queries(len(one)):
        response = client.get(url)
    assert response.content.decode().count('data-testid="order-row-') == 25


def test_finance_sets_the_credit_limit_from_the_tab(finance, company):
    """D6: finance sets the limit from the dossier; empty removes it."""
    client = browser(finance)
    url = reverse("finance:credit_limit", args=[company.pk])
    assert client.post(url, {"amount": "1 500 000,50"}).status_code == 302
    assert company.credit_limit.amount == Decimal("1500000.50")
    page = client.get(reverse("finance:company_purchases", args=[company.pk])).content.decode()
    assert 'data-testid="credit-limit-form"' in page and "1\u00a0500\u00a0000,50\u00a0₽" in page
    client.post(url, {"amount": ""})
    company.refresh_from_db()
    assert not hasattr(company, "credit_limit") or company.credit_limit is None


def test_seller_cannot_set_the_limit(manager, company):
    """D6: a seller is refused (403) and nothing is written."""
    response = browser(manager).post(reverse("finance:credit_limit", args=[company.pk]), {"amount": "5"})
    assert response.status_code == 403


def test_order_form_adds_a_line_without_javascript_and_saves(manager, company):
    """D8: «Add a line» re-renders the form with one more row; saving creates a draft with the lines."""
    a = product_factory(base_price="100")
    b = product_factory(base_price="200")
    client = browser(manager)
    url = reverse("finance:order_create") + f"?company={company.pk}"
    page = client.get(url)
    assert page.status_code == 200
    data = {
        "ordered_on": timezone.localdate().isoformat(),
        "number": "З-1",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": a.pk,
        "lines-0-quantity": "2",
        "add_line": "1",
    }
    more = client.post(url, data)
    assert more.status_code == 200 and 'data-testid="line-2"' in more.content.decode()
    data.pop("add_line")
    data.update(
        {
            "lines-TOTAL_FORMS": "2",
            "lines-1-product": b.pk,
            "lines-1-quantity": "1",
            "lines-1-discount_percent": "10",
        }
    )
    response = client.post(url, data)
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "finance:order_detail", args=[order.pk]
    )
    assert (order.total, order.status, order.number) == (Decimal("380.00"), "draft", "З-1")


def test_order_form_shows_line_errors_and_writes_nothing(manager, company):
    """D8: a bad line is named by its number next to the lines; nothing is saved."""
    a = product_factory(base_price="100")
    response = browser(manager).post(
        reverse("finance:order_create") + f"?company={company.pk}",
        {
            "ordered_on": "2024-01-01",
            "lines-TOTAL_FORMS": "2",
            "lines-INITIAL_FORMS": "0",
            "lines-0-product": a.pk,
            "lines-0-quantity": "1",
            "lines-1-product": a.pk,
            "lines-1-quantity": "0",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    row = page[page.index('data-testid="line-2"') : page.index('data-testid="line-2-errors"')]
    errors = page[page.index('data-testid="line-2-errors"') :]
    quantity = next(tag for tag in row.split("<input")[1:] if 'name="lines-1-quantity"' in tag)
    assert "is-invalid" in quantity.split(">")[0]
    assert "The quantity must be greater than zero." in errors[: errors.index("</tr>")]
    assert 'data-testid="line-1-errors"' not in page
    assert "Check the lines marked in red below." in page
    assert not Order.objects.exists()


def test_order_form_keeps_errors_of_no_line_at_the_top_of_the_lines(manager, company):
    """D8: «An order needs at least one line» belongs to no row: it stays above the lines."""
    response = browser(manager).post(
        reverse("finance:order_create") + f"?company={company.pk}",
        {"ordered_on": "2024-01-01", "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 200
    assert "An order needs at least one line." in response.content.decode()
    assert not Order.objects.exists()


def test_colleague_cannot_enter_or_edit_orders(other_manager, manager, company):
    """D8: the curator's colleague reads the order but cannot enter or change one (403)."""
    order = order_factory(company=company, actor=manager)
    client = browser(other_manager)
    assert client.get(reverse("finance:order_create") + f"?company={company.pk}").status_code == 403
    assert client.get(reverse("finance:order_edit", args=[order.pk])).status_code == 403
    page = client.get(reverse("finance:order_detail", args=[order.pk]))
    assert page.status_code == 200 and 'data-testid="order-actions"' not in page.content.decode()
    assert (
        client.post(reverse("finance:order_status", args=[order.pk]), {"status": "confirmed"}).status_code
        == 403
    )


def test_confirmation_over_the_limit_tells_the_seller_and_head_approves_on_the_page(manager, head, company):
    """D6: the seller's confirmation leaves a draft and says why; the head approves on the approvals page."""
    credit_limit_factory(company=company, amount="100", actor=head)
    order = order_factory(company=company, actor=manager, ordered_on=timezone.localdate(), amount="500")
    response = browser(manager).post(
        reverse("finance:order_status", args=[order.pk]), {"status": "confirmed", "version": 1}, follow=True
    )
    html = response.content.decode()
    assert "needs the head of sales&#x27; approval" in html and "Credit limit exceeded" in html
    order.refresh_from_db()
    assert order.status == "draft"
    approval = CreditApproval.objects.get()
    seller_view = browser(manager).get(reverse("finance:credit_approvals")).content.decode()
    assert f'data-testid="approval-{approval.pk}"' in seller_view and "decide-" not in seller_view
    assert (
        browser(manager)
        .post(reverse("finance:credit_approval_decide", args=[approval.pk]), {"decision": "approve"})
        .status_code
        == 403
    )
    head_client = browser(head)
    assert (
        f'data-testid="decide-{approval.pk}"'
        in head_client.get(reverse("finance:credit_approvals")).content.decode()
    )
    head_client.post(
        reverse("finance:credit_approval_decide", args=[approval.pk]),
        {"decision": "approve", "comment": "ok"},
    )
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_catalogue_page_filters_and_the_head_edits(head, manager, django_assert_max_num_queries):
    """D8: everyone reads the catalogue (search, category); only the head of sales adds and edits."""
    cables = category_factory("Кабели")
    product_factory(name="Кабель ВВГ", category=cables, base_price="10")
    product_factory(name="Автомат", category=category_factory("Автоматика"), base_price="20")
    seller = browser(manager)
    page = seller.get(reverse("finance:products"), {"category": cables.pk}).content.decode()
    assert "Кабель ВВГ" in page and "<td>Автомат</td>" not in page and 'data-testid="new-product"' not in page
    assert "Кабель ВВГ" in seller.get(reverse("finance:products"), {"q": "ввг"}).content.decode()
    assert seller.get(reverse("finance:product_create")).status_code == 403
    client = browser(head)
    response = client.post(
        reverse("finance:product_create"),
        {"name": "Щит", "category": cables.pk, "unit": "шт", "base_price": "1 000,00", "is_active": "on"},
    )
    assert response.status_code == 302
    product = Product.objects.get(name="Щит")
    client.post(
        reverse("finance:product_edit", args=[product.pk]),
        {"name": "Щит", "category": cables.pk, "unit": "шт", "base_price": "1200"},
    )
    product.refresh_from_db()
    assert (product.base_price, product.is_active) == (Decimal("1200.00"), False)
    for n in range(30):
        product_factory(name=f"Позиция {n}", category=cables)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("finance:products")).status_code == 200


def test_order_detail_shows_lines_actions_and_history(manager, company):
    """D8: the order page lists its lines, the actions its status allows and its history."""
    order = order_factory(company=company, actor=manager, amount="250", status="confirmed")
    html = browser(manager).get(reverse("finance:order_detail", args=[order.pk])).content.decode()
    assert 'data-testid="status-shipped"' in html and 'data-testid="status-cancelled"' in html
    assert 'data-testid="status-draft"' in html and 'data-testid="status-completed"' not in html
    assert "250,00" in html and 'data-testid="order-history"' in html

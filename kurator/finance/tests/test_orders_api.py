"""The catalogue, orders and purchase-statistics API (D8, D9, D6): shapes, decimal strings, roles, 400 with
line messages, the credit-control 400, 409, constant list queries."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django.utils.translation import override
from rest_framework.test import APIClient

from kurator.accounts.models import User
from kurator.companies.models import ProductCategory
from kurator.finance.models import CreditApproval, Order, Product
from kurator.finance.tests.factories_orders import (
    category_factory,
    credit_limit_factory,
    line,
    order_factory,
    product_factory,
)
from tests.factories import company_factory

pytestmark = pytest.mark.django_db

ROLES = ("manager", "other_manager", "senior_manager", "head", "finance", "admin_user")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with override("en"):
        yield


def api(user: User | None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_authenticate(user)
    return client


# Categories and products ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_categories_are_read_by_members_and_written_by_the_head(request, role):
    """D9: every member reads the product categories; only the head of sales (or admin) writes them."""
    user = request.getfixturevalue(role)
    client = api(user)
    listed = client.get("/api/v1/product-categories/")
    assert listed.status_code == 200
    assert {"id", "name", "is_active"} <= set(listed.json()["results"][0])
    created = client.post("/api/v1/product-categories/", {"name": f"Новая {role}"}, format="json")
    may = role in ("head", "admin_user")
    assert created.status_code == (201 if may else 403)
    assert ProductCategory.objects.filter(name=f"Новая {role}").exists() == may


def test_anonymous_is_refused_everywhere(company):
    for url in (
        "/api/v1/product-categories/",
        "/api/v1/products/",
        "/api/v1/orders/",
        f"/api/v1/companies/{company.pk}/purchase-stats/",
    ):
        assert api(None).get(url).status_code in (401, 403)


def test_duplicate_category_is_refused_by_the_dictionary_service(head):
    """D9: the category dictionary's own rules apply (one service, no twin)."""
    category_factory("Кабели")
    response = api(head).post("/api/v1/product-categories/", {"name": "Кабели"}, format="json")
    assert response.status_code == 400 and "name" in response.json()


@pytest.mark.parametrize("role", ROLES)
def test_products_are_read_by_members_and_written_by_the_head(request, role):
    """D8: the catalogue is read by everyone and kept by the head of sales."""
    user = request.getfixturevalue(role)
    category = category_factory("Кабели")
    product = product_factory(name="Кабель", category=category, base_price="1234.5", code="K1", unit="м")
    client = api(user)
    body = client.get(f"/api/v1/products/{product.pk}/").json()
    assert body == {
        "id": product.pk,
        "name": "Кабель",
        "code": "K1",
        "category": category.pk,
        "unit": "м",
        "base_price": "1234.50",
        "is_active": True,
    }
    response = client.post(
        "/api/v1/products/",
        {"name": f"Щит {role}", "category": category.pk, "base_price": "10.00"},
        format="json",
    )
    may = role in ("head", "admin_user")
    assert response.status_code == (201 if may else 403)
    patched = client.patch(f"/api/v1/products/{product.pk}/", {"is_active": False}, format="json")
    assert patched.status_code == (200 if may else 403)
    product.refresh_from_db()
    assert product.is_active is not may


def test_product_validation_and_filters(head):
    """D8: a zero price and a duplicate name are refused by field; filters by category and search."""
    cables = category_factory("Кабели")
    product_factory(name="Кабель ВВГ", category=cables)
    product_factory(name="Автомат", category=category_factory("Автоматика"))
    client = api(head)
    bad = client.post(
        "/api/v1/products/", {"name": "Кабель ВВГ", "category": cables.pk, "base_price": "0"}, format="json"
    )
    assert bad.status_code == 400 and {"name", "base_price"} <= set(bad.json())
    assert Product.objects.count() == 2
    names = [p["name"] for p in client.get("/api/v1/products/", {"category": cables.pk}).json()["results"]]
    assert names == ["Кабель ВВГ"]
    assert client.get("/api/v1/products/", {"search": "авто"}).json()["count"] == 1


def test_product_list_queries_are_constant(head, django_assert_max_num_queries):
    for _ in range(3):
        product_factory()
    client = api(head)
    with django_assert_max_num_queries(2):
        client.get("/api/v1/products/")
    for _ in range(20):
        product_factory()
    with django_assert_max_num_queries(2):
        assert client.get("/api/v1/products/").json()["count"] == 23


# Orders ---------------------------------------------------------------------------------------------------


def _payload(company, product, **extra):
    return {
        "company": company.pk,
        "ordered_on": "2024-03-01",
        "lines": [{"product": product.pk, "quantity": "2", "price": "100.50", "discount_percent": "10"}],
        **extra,
    }


def test_order_shape_with_lines_and_decimal_strings(manager, company):
    """D8: an order answers with the issue's fields; money as decimal strings; lines with their amounts."""
    product = product_factory(base_price="100.50")
    response = api(manager).post("/api/v1/orders/", _payload(company, product, number="З-5"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {
        "id",
        "company",
        "contract",
        "ordered_on",
        "status",
        "lines",
        "total",
        "number",
        "deal",
        "version",
    } <= set(body)
    assert body["lines"] == [
        {
            "product": product.pk,
            "quantity": "2.000",
            "price": "100.50",
            "discount_percent": "10.00",
            "amount": "180.90",
        }
    ]
    assert (body["total"], body["status"], body["version"], body["contract"]) == ("180.90", "draft", 1, None)


def test_bad_lines_are_named_and_nothing_is_written(manager, company):
    """D8: 400 names ``lines`` with the line number; nothing is written."""
    product = product_factory()
    payload = _payload(company, product)
    payload["lines"].append({"product": product.pk, "quantity": "0"})
    response = api(manager).post("/api/v1/orders/", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"lines": ["Line 2: the quantity must be greater than zero."]}
    assert not Order.objects.exists()


def test_new_order_cannot_be_created_confirmed(manager, company):
    response = api(manager).post(
        "/api/v1/orders/", _payload(company, product_factory(), status="confirmed"), format="json"
    )
    assert response.status_code == 400 and "status" in response.json()
    assert not Order.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_who_may_enter_and_change_orders(request, company, role):
    """D8: everyone reads; the curator (manager), the head and admin enter and change; others get 403."""
    user = request.getfixturevalue(role)
    product = product_factory()
    order = order_factory(company=company, lines=[line(product, 1)])
    client = api(user)
    assert client.get(f"/api/v1/orders/{order.pk}/").status_code == 200
    assert client.get("/api/v1/orders/", {"company": company.pk}).json()["count"] == 1
    may = role in ("manager", "head", "admin_user")
    created = client.post("/api/v1/orders/", _payload(company, product), format="json")
    assert created.status_code == (201 if may else 403)
    patched = client.patch(f"/api/v1/orders/{order.pk}/", {"notes": "x"}, format="json")
    assert patched.status_code == (200 if may else 403)
    moved = client.post(f"/api/v1/orders/{order.pk}/status/", {"status": "confirmed"}, format="json")
    assert moved.status_code == (200 if may else 403)
    order.refresh_from_db()
    assert order.status == ("confirmed" if may else "draft")


def test_update_replaces_lines_and_stale_version_is_409(manager, company):
    product = product_factory(base_price="10")
    order = order_factory(company=company, actor=manager, lines=[line(product, 1)])
    client = api(manager)
    response = client.patch(
        f"/api/v1/orders/{order.pk}/",
        {
            "version": 1,
            "lines": [{"product": product.pk, "quantity": "3"}, {"product": product.pk, "quantity": "1"}],
        },
        format="json",
    )
    assert (
        response.status_code == 200
        and response.json()["total"] == "40.00"
        and response.json()["version"] == 2
    )
    stale = client.patch(f"/api/v1/orders/{order.pk}/", {"version": 1, "notes": "x"}, format="json")
    assert stale.status_code == 409
    refused = client.patch(f"/api/v1/orders/{order.pk}/", {"status": "confirmed"}, format="json")
    assert refused.status_code == 400 and "status" in refused.json()


def test_status_transitions_through_the_action(manager, company):
    order = order_factory(company=company, actor=manager, status="completed")
    response = api(manager).post(f"/api/v1/orders/{order.pk}/status/", {"status": "cancelled"}, format="json")
    assert response.status_code == 400 and response.json() == {"status": ["A completed order is final."]}


def test_confirmation_blocked_by_credit_control_answers_400_with_the_approval(manager, head, company):
    """D6: over the limit, the seller's confirmation answers 400 naming status with the reasons and the
    pending approval's id; the order stays a draft. The head's own confirmation goes through."""
    credit_limit_factory(company=company, amount="100", actor=head)
    order = order_factory(company=company, actor=manager, ordered_on=timezone.localdate(), amount="250")
    response = api(manager).post(
        f"/api/v1/orders/{order.pk}/status/", {"status": "confirmed", "version": 1}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    approval = CreditApproval.objects.get()
    assert body["approval"] == approval.pk
    assert body["status"][0].startswith("The order needs the head of sales' approval")
    assert [r["code"] for r in body["reasons"]] == ["over_limit"]
    assert body["reasons"][0]["excess"] == "150.00"
    order.refresh_from_db()
    assert order.status == "draft"
    by_head = api(head).post(f"/api/v1/orders/{order.pk}/status/", {"status": "confirmed"}, format="json")
    assert by_head.status_code == 200 and by_head.json()["status"] == "confirmed"
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == ("approved", head)


def test_order_filters_and_constant_queries(manager, company, django_assert_max_num_queries):
    """D8: ?company= and ?status= filter; a page costs the same for 1 order as for 20."""
    other = company_factory(actor=manager)
    product = product_factory()
    order_factory(company=company, actor=manager, lines=[line(product, 1)], status="confirmed")
    order_factory(company=other, actor=manager, lines=[line(product, 1)])
    client = api(manager)
    assert client.get("/api/v1/orders/", {"company": company.pk}).json()["count"] == 1
    assert client.get("/api/v1/orders/", {"status": "draft"}).json()["count"] == 1
    with django_assert_max_num_queries(4) as one:
        client.get("/api/v1/orders/")
    for _ in range(20):
        order_factory(company=company, actor=manager, lines=[line(product, 1), line(product, 2)])
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get("/api/v1/orders/").json()["count"] == 22


# Purchase statistics --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_purchase_stats_exact_fields_for_every_member(request, company, role):
    """D8/D9: exactly the issue's fields; money as decimal strings; every member reads them."""
    product = product_factory(base_price="1000")
    order_factory(company=company, lines=[line(product, 1)], ordered_on="2024-01-10", status="confirmed")
    order_factory(company=company, lines=[line(product, 2)], ordered_on="2024-02-09", status="completed")
    body = api(request.getfixturevalue(role)).get(f"/api/v1/companies/{company.pk}/purchase-stats/").json()
    assert set(body) == {
        "orders_count",
        "total",
        "average",
        "purchases_per_month",
        "average_interval_days",
        "last_purchase_on",
        "categories_count",
    }
    assert (body["orders_count"], body["total"], body["average"]) == (2, "3000.00", "1500.00")
    assert (body["average_interval_days"], body["last_purchase_on"], body["categories_count"]) == (
        30.0,
        "2024-02-09",
        1,
    )
    assert isinstance(body["purchases_per_month"], float)


def test_purchase_stats_of_an_unknown_company_is_404(manager):
    assert api(manager).get("/api/v1/companies/999999/purchase-stats/").status_code == 404

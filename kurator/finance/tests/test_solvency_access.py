"""R4/D4: the confidential solvency section — the dossier tab, its forms and the API, across roles."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kurator.access.scoping import visible_financial_statements
from kurator.finance.models import FinancialStatement
from kurator.finance.tests.factories_solvency import invoice, statement
from tests.factories import company_factory

SEEN = ["manager", "head", "finance", "admin_user"]
NOT_SEEN = ["other_manager", "senior_manager"]
# Figures that must never reach someone who may not see them.
SECRET_REVENUE = "98765432.10"
SECRET_FRAGMENTS = ["98\u00a0765\u00a0432", "98 765 432", "98765432", "4\u00a0321\u00a0987", "4321987"]


@pytest.fixture
def client_with_figures(company):
    statement(
        company,
        2024,
        revenue=SECRET_REVENUE,
        net_profit="4321987",
        total_assets="50000000",
        equity="20000000",
        liabilities="30000000",
        current_assets="25000000",
        current_liabilities="10000000",
    )
    today = timezone.localdate()
    invoice(company, issued=today - timedelta(days=60), due=today - timedelta(days=30), amount=1000, paid="1")
    return company


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


# The dossier tab ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", SEEN)
def test_the_curator_head_finance_and_admin_see_the_tab(client, request, client_with_figures, role):
    """R4/D4: rating with factors, ratios, discipline, the limit, the statements."""
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("finance:company_solvency", args=[client_with_figures.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for testid in (
        "solvency-rating",
        "factor-current_liquidity",
        "ratios-2024",
        "statement-2024",
        "solvency-discipline",
        "suggested-limit",
    ):
        assert f'data-testid="{testid}"' in html
    assert "98\u00a0765\u00a0432,10" in html


@pytest.mark.parametrize("role", NOT_SEEN)
def test_others_get_a_lock_notice_with_403_and_no_figure(client, request, client_with_figures, role):
    """R4: the tab opens but shows only the lock notice; no figure leaks into the HTML."""
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("finance:company_solvency", args=[client_with_figures.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="solvency-locked"' in html
    assert "the curator, the head of sales, finance and the administrator see it" in html
    for fragment in SECRET_FRAGMENTS:
        assert fragment not in html
    for testid in ("solvency-rating", "solvency-factors", "statement-2024", "suggested-limit"):
        assert testid not in html


def test_the_tab_runs_a_constant_number_of_queries(client, manager, company, django_assert_max_num_queries):
    """D4: one statement and one invoice cost as much as many."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    statement(company, 2024, revenue="1", current_assets="1", current_liabilities="1")
    today = timezone.localdate()
    invoice(company, issued=today - timedelta(days=5), due=today, amount=10)
    client.force_login(manager)
    url = reverse("finance:company_solvency", args=[company.pk])
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for year in range(2010, 2024):
        statement(company, year, revenue="100", equity="10", total_assets="50")
    for n in range(30):
        invoice(
            company,
            issued=today - timedelta(days=90 + n),
            due=today - timedelta(days=60),
            amount=100,
            paid_on=today - timedelta(days=50),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_the_curator_adds_edits_and_imports_statements_through_the_pages(client, manager, company):
    client.force_login(manager)
    add = reverse("finance:solvency_statement_add", args=[company.pk])
    assert client.get(add).status_code == 200
    response = client.post(add, {"year": "2024", "revenue": "1 234 567,89", "net_profit": "-5"})
    assert response.status_code == 302
    saved = FinancialStatement.objects.get(company=company)
    assert saved.revenue == Decimal("1234567.89")

    edit = reverse("finance:solvency_statement_edit", args=[saved.pk])
    response = client.post(edit, {"year": "2024", "revenue": "10", "version": "1"})
    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.revenue, saved.net_profit, saved.version) == (Decimal("10.00"), None, 2)
    assert client.post(edit, {"year": "2024", "revenue": "11", "version": "1"}).status_code == 409

    imported = reverse("finance:solvency_import", args=[company.pk])
    assert client.get(imported).status_code == 200
    upload = SimpleUploadedFile("s.csv", "Год;Выручка\n2023;5\n2022;сто\n".encode("cp1251"))
    response = client.post(imported, {"file": upload})
    assert response.status_code == 200
    assert "Line 3, column «Выручка»" in response.content.decode()
    assert FinancialStatement.objects.count() == 1
    upload = SimpleUploadedFile("s.csv", "Год;Выручка\n2023;5\n2024;7\n".encode("cp1251"))
    response = client.post(imported, {"file": upload}, follow=True)
    assert "added: 2023" in response.content.decode()
    assert FinancialStatement.objects.count() == 2


def test_a_duplicate_year_on_the_page_shows_the_message(client, manager, company):
    statement(company, 2024)
    client.force_login(manager)
    response = client.post(reverse("finance:solvency_statement_add", args=[company.pk]), {"year": "2024"})
    assert response.status_code == 200
    assert "already entered for this client" in response.content.decode()


@pytest.mark.parametrize("role", NOT_SEEN)
def test_others_may_not_reach_the_forms(client, request, company, role):
    saved = statement(company, 2024, revenue=SECRET_REVENUE)
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("finance:solvency_statement_add", args=[company.pk])).status_code == 403
    assert client.post(reverse("finance:solvency_import", args=[company.pk])).status_code == 403
    response = client.get(reverse("finance:solvency_statement_edit", args=[saved.pk]))
    assert response.status_code == 404
    assert "98\u00a0765" not in response.content.decode()


# Scoping --------------------------------------------------------------------------------------------------


def test_visible_statements_follow_the_roles(
    manager, other_manager, senior_manager, head, finance, admin_user
):
    """R4: the head, finance and admin see all; a seller only the clients they curate."""
    mine = statement(company_factory(actor=manager), 2024)
    theirs = statement(company_factory(actor=other_manager), 2024)
    assert set(visible_financial_statements(manager)) == {mine}
    assert set(visible_financial_statements(other_manager)) == {theirs}
    assert set(visible_financial_statements(senior_manager)) == set()
    for actor in (head, finance, admin_user):
        assert set(visible_financial_statements(actor)) == {mine, theirs}


# The API --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", SEEN)
def test_the_solvency_endpoint_for_who_may_see_it(request, client_with_figures, role):
    response = _api(request.getfixturevalue(role)).get(
        f"/api/v1/companies/{client_with_figures.pk}/solvency/"
    )
    assert response.status_code == 200
    body = response.json()
    assert {"rating", "factors", "ratios", "payment_discipline", "suggested_credit_limit"} <= set(body)
    assert body["ratios"][0] == {
        "year": 2024,
        "current_liquidity": "2.5000",
        "equity_ratio": "0.4000",
        "net_margin": "0.0438",
    }
    assert body["factors"][0] == {
        "code": "current_liquidity",
        "label": "Current liquidity",
        "unit": "ratio",
        "value": "2.5000",
        "verdict": "good",
        "points": 3,
        "max_points": 3,
    }
    assert body["payment_discipline"]["overdue_amount"] == "999.00"
    assert isinstance(body["suggested_credit_limit"], str)


@pytest.mark.parametrize("role", NOT_SEEN)
def test_the_solvency_endpoint_refuses_others(request, client_with_figures, role):
    response = _api(request.getfixturevalue(role)).get(
        f"/api/v1/companies/{client_with_figures.pk}/solvency/"
    )
    assert response.status_code == 403
    for fragment in SECRET_FRAGMENTS:
        assert fragment not in response.content.decode()


def test_the_solvency_endpoint_404s_for_an_unknown_company(head):
    assert _api(head).get("/api/v1/companies/999999/solvency/").status_code == 404


def test_the_solvency_endpoint_needs_a_login(company):
    assert APIClient().get(f"/api/v1/companies/{company.pk}/solvency/").status_code in (401, 403)


def test_the_statements_list_is_scoped(manager, other_manager, head, finance, client_with_figures):
    """R4: the curator and finance/head see the client's statements; another manager gets none of them."""
    url = "/api/v1/financial-statements/"
    for user in (manager, head, finance):
        body = _api(user).get(url, {"company": client_with_figures.pk}).json()
        assert body["count"] == 1
        assert body["results"][0]["revenue"] == SECRET_REVENUE
        assert set(body["results"][0]) == {
            "id",
            "company",
            "year",
            "revenue",
            "net_profit",
            "total_assets",
            "equity",
            "liabilities",
            "current_assets",
            "current_liabilities",
            "source",
            "version",
        }
    response = _api(other_manager).get(url)
    assert response.json()["count"] == 0
    assert SECRET_REVENUE not in response.content.decode()
    saved = FinancialStatement.objects.get()
    assert _api(other_manager).get(f"{url}{saved.pk}/").status_code == 404
    assert _api(head).get(url, {"year": 2023}).json()["count"] == 0


def test_the_statements_list_runs_a_constant_number_of_queries(head, manager, django_assert_max_num_queries):
    company = company_factory(actor=manager)
    statement(company, 2000)
    api = _api(head)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert api.get("/api/v1/financial-statements/").json()["count"] == 1
    for year in range(2001, 2030):
        statement(company, year, revenue="1")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert api.get("/api/v1/financial-statements/").json()["count"] == 30


def test_create_and_update_through_the_api(manager, finance, other_manager, company):
    url = "/api/v1/financial-statements/"
    response = _api(manager).post(
        url, {"company": company.pk, "year": 2024, "revenue": "1000.50", "equity": "-10"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["revenue"], body["equity"], body["net_profit"], body["version"]) == (
        "1000.50",
        "-10.00",
        None,
        1,
    )
    duplicate = _api(finance).post(url, {"company": company.pk, "year": 2024}, format="json")
    assert duplicate.status_code == 400
    assert "year" in duplicate.json()
    negative = _api(finance).post(url, {"company": company.pk, "year": 2023, "revenue": "-1"}, format="json")
    assert negative.status_code == 400 and "revenue" in negative.json()
    assert (
        _api(other_manager).post(url, {"company": company.pk, "year": 2022}, format="json").status_code == 403
    )

    detail = f"{url}{body['id']}/"
    response = _api(finance).patch(detail, {"revenue": "2000", "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["version"] == 2
    assert _api(manager).patch(detail, {"revenue": "3", "version": 1}, format="json").status_code == 409
    assert _api(other_manager).patch(detail, {"revenue": "3"}, format="json").status_code == 404
    assert FinancialStatement.objects.get().revenue == Decimal("2000.00")


def test_import_through_the_api(finance, other_manager, company):
    url = "/api/v1/financial-statements/import/"
    data = b"year;revenue\n2024;1 000,5\n"
    response = _api(finance).post(
        url, {"company": company.pk, "file": SimpleUploadedFile("s.csv", data)}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert response.json()["created"] == [2024]
    assert response.json()["statements"][0]["revenue"] == "1000.50"
    refused = _api(other_manager).post(
        url, {"company": company.pk, "file": SimpleUploadedFile("s.csv", data)}, format="multipart"
    )
    assert refused.status_code == 403
    bad = _api(finance).post(
        url,
        {"company": company.pk, "file": SimpleUploadedFile("s.csv", b"year;revenue\n2025;x\n")},
        format="multipart",
    )
    assert bad.status_code == 400
    assert "Line 2, column «revenue»" in bad.json()["file"][0]
    assert FinancialStatement.objects.count() == 1

"""R4, D12, R3: the solvency section under restricted access.

Every opening of the solvency tab and every read of statements (page or API) is in the audit log with the
rule or grant that allowed it, or ``no_grant``; a granted manager sees the figures everywhere the curator
does; a colleague without a grant finds no figure anywhere — dossier, lists, search, API — yet still reads
the open history of the client (R3).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kurator.access import services
from kurator.access.models import AuditAction, AuditEvent
from kurator.access.tests.factories_access import ask, grant
from kurator.finance.tests.factories_solvency import invoice, statement
from tests.factories import company_factory

SECRET_REVENUE = "98765432.10"
SECRET_FRAGMENTS = ["98\u00a0765\u00a0432", "98 765 432", "98765432", "4\u00a0321\u00a0987", "4321987"]
FIGURE_TESTIDS = [
    "solvency-rating",
    "factor-current_liquidity",
    "statement-2024",
    "suggested-limit",
    "ratios-2024",
]


@pytest.fixture
def rich_client(manager):
    """A client curated by ``manager`` with statements and an overdue invoice (a rating and a limit)."""
    company = company_factory(actor=manager, short_name="Ромашка")
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


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# The tab --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "rule"),
    [("manager", "curator"), ("head", "head_of_sales"), ("finance", "finance"), ("admin_user", "admin")],
)
def test_each_opening_of_the_tab_is_logged_with_the_rule(client, request, rich_client, who, rule):
    """D12: user, time, IP, object, action and the rule that allowed it."""
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(
        reverse("finance:company_solvency", args=[rich_client.pk]), REMOTE_ADDR="192.168.1.20"
    )
    assert response.status_code == 200
    (event,) = _events(AuditAction.VIEW_SOLVENCY)
    assert (event.user_id, event.allowed, event.rule, event.company_id, event.ip) == (
        user.pk,
        True,
        rule,
        rich_client.pk,
        "192.168.1.20",
    )
    assert (event.object_type, event.object_id) == ("company", rich_client.pk)


def test_a_refused_opening_is_logged_and_offers_to_request_access(client, other_manager, rich_client):
    """R4: the lock notice (403) has a «Request access» button to the request page; the refusal is logged."""
    client.force_login(other_manager)
    response = client.get(reverse("finance:company_solvency", args=[rich_client.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert f'href="{reverse("access:request")}?company={rich_client.pk}"' in html
    assert 'data-testid="request-access"' in html
    (event,) = _events(AuditAction.VIEW_SOLVENCY)
    assert (event.user_id, event.allowed, event.rule) == (other_manager.pk, False, "no_grant")


def test_while_a_request_waits_the_notice_says_so(client, other_manager, head, rich_client):
    ask(other_manager, rich_client)
    client.force_login(other_manager)
    html = client.get(reverse("finance:company_solvency", args=[rich_client.pk])).content.decode()
    assert 'data-testid="access-request-pending"' in html
    assert "is waiting for the head of sales' decision" in html
    assert (
        timezone.localdate().strftime("%m/%d/%Y") in html or timezone.localdate().strftime("%d.%m.%Y") in html
    )
    assert 'data-testid="request-access"' not in html


def test_a_granted_manager_sees_the_figures_and_the_grant_is_logged(client, other_manager, head, rich_client):
    """R4: the journey — ask, the head approves for seven days, the tab opens with every figure; the view is
    logged under ``grant:<id>``; after revoking, the lock is back."""
    access_request = ask(other_manager, rich_client)
    access = services.access_request_approve(
        actor=head, request=access_request, expires_on=timezone.localdate() + timedelta(days=7)
    )
    client.force_login(other_manager)
    url = reverse("finance:company_solvency", args=[rich_client.pk])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    for testid in FIGURE_TESTIDS:
        assert f'data-testid="{testid}"' in html
    assert "98\u00a0765\u00a0432,10" in html or "98,765,432.10" in html
    (event,) = _events(AuditAction.VIEW_SOLVENCY)
    assert (event.allowed, event.rule) == (True, f"grant:{access.pk}")
    services.access_grant_revoke(actor=head, grant=access, reason="Сделка закрыта")
    assert client.get(url).status_code == 403
    assert _events(AuditAction.VIEW_SOLVENCY)[-1].rule == "no_grant"


def test_a_grant_to_one_document_does_not_open_the_solvency_section(client, other_manager, head, rich_client):
    from kurator.access.tests.factories_access import document

    grant(head, other_manager, rich_client, doc=document(rich_client))
    client.force_login(other_manager)
    assert client.get(reverse("finance:company_solvency", args=[rich_client.pk])).status_code == 403


def test_the_granted_manager_may_read_but_not_change_the_statements(client, other_manager, head, rich_client):
    grant(head, other_manager, rich_client)
    client.force_login(other_manager)
    assert client.get(reverse("finance:solvency_statement_add", args=[rich_client.pk])).status_code == 403


def test_the_tab_still_runs_a_constant_number_of_queries_with_the_audit(
    client, other_manager, head, rich_client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    grant(head, other_manager, rich_client)
    client.force_login(other_manager)
    url = reverse("finance:company_solvency", args=[rich_client.pk])
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for year in range(2010, 2024):
        statement(rich_client, year, revenue="100", equity="10", total_assets="50")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


# The API --------------------------------------------------------------------------------------------------


def test_the_solvency_endpoint_is_logged_and_opens_through_a_grant(other_manager, head, rich_client):
    url = f"/api/v1/companies/{rich_client.pk}/solvency/"
    assert _api(other_manager).get(url).status_code == 403
    access = grant(head, other_manager, rich_client)
    response = _api(other_manager).get(url)
    assert response.status_code == 200
    assert response.json()["ratios"][0]["year"] == 2024
    refused, allowed = _events(AuditAction.VIEW_SOLVENCY)
    assert (refused.allowed, refused.rule, refused.user_id) == (False, "no_grant", other_manager.pk)
    assert (allowed.allowed, allowed.rule) == (True, f"grant:{access.pk}")


def test_statements_through_the_api_open_through_a_grant_and_are_logged(
    other_manager, head, manager, rich_client
):
    url = "/api/v1/financial-statements/"
    saved = rich_client.financial_statements.get()
    api = _api(other_manager)
    assert api.get(url, {"company": rich_client.pk}).json()["count"] == 0
    assert api.get(f"{url}{saved.pk}/").status_code == 404
    refused_list, refused_record = _events(AuditAction.VIEW_STATEMENTS)
    assert (refused_list.allowed, refused_list.rule, refused_list.company_id) == (
        False,
        "no_grant",
        rich_client.pk,
    )
    assert (refused_record.allowed, refused_record.object_type, refused_record.object_id) == (
        False,
        "financialstatement",
        saved.pk,
    )
    assert refused_record.company_id == rich_client.pk

    access = grant(head, other_manager, rich_client)
    body = api.get(url, {"company": rich_client.pk}).json()
    assert body["count"] == 1 and body["results"][0]["revenue"] == SECRET_REVENUE
    assert api.get(url).json()["count"] == 1  # every client they may see: their own (none) and the granted
    assert api.get(f"{url}{saved.pk}/").json()["revenue"] == SECRET_REVENUE
    by_company, scoped, record = _events(AuditAction.VIEW_STATEMENTS)[2:]
    assert (by_company.allowed, by_company.rule) == (True, f"grant:{access.pk}")
    assert (scoped.allowed, scoped.rule, scoped.company_id, scoped.detail) == (
        True,
        "scoped",
        None,
        "list: 1 statements",
    )
    assert (record.rule, record.object_id) == (f"grant:{access.pk}", saved.pk)
    _api(head).get(url)
    assert _events(AuditAction.VIEW_STATEMENTS)[-1].rule == "head_of_sales"


def test_the_statement_edit_form_is_logged_as_a_view(client, manager, rich_client):
    saved = rich_client.financial_statements.get()
    client.force_login(manager)
    assert client.get(reverse("finance:solvency_statement_edit", args=[saved.pk])).status_code == 200
    (event,) = _events(AuditAction.VIEW_STATEMENTS)
    assert (event.rule, event.object_id, event.company_id) == ("curator", saved.pk, rich_client.pk)


# No leak ----------------------------------------------------------------------------------------------


def test_a_colleague_without_a_grant_finds_no_figure_anywhere(client, other_manager, rich_client):
    """R4 (no leak) and R3 (openness): the dossier's pages, the lists, search and the API show a colleague
    the client and its history, and none of its solvency figures, rating, limit or statements."""
    client.force_login(other_manager)
    pk = rich_client.pk
    pages = [
        reverse("companies:detail", args=[pk]),
        reverse("companies:profile", args=[pk]),
        reverse("companies:history", args=[pk]),
        reverse("companies:list"),
        reverse("companies:list") + "?q=Ромашка",
        reverse("finance:company_solvency", args=[pk]),
        reverse("finance:company_purchases", args=[pk]),
        reverse("finance:company_receivables", args=[pk]),
        reverse("finance:company_contracts", args=[pk]),
        reverse("activities:company_timeline", args=[pk]),
        reverse("sales:company_deals", args=[pk]),
        reverse("finance:receivables"),
        reverse("finance:invoices"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 403), url
        html = response.content.decode()
        for fragment in SECRET_FRAGMENTS:
            assert fragment not in html, (url, fragment)
        for testid in FIGURE_TESTIDS:
            assert testid not in html, (url, testid)
    assert "Ромашка" in client.get(reverse("companies:list") + "?q=Ромашка").content.decode()

    api = _api(other_manager)
    endpoints = [
        f"/api/v1/companies/{pk}/",
        "/api/v1/companies/",
        "/api/v1/companies/?search=Ромашка",
        f"/api/v1/companies/{pk}/solvency/",
        "/api/v1/financial-statements/",
        f"/api/v1/financial-statements/?company={pk}",
        f"/api/v1/financial-statements/{rich_client.financial_statements.get().pk}/",
    ]
    for url in endpoints:
        response = api.get(url)
        assert response.status_code in (200, 403, 404), url
        text = response.content.decode()
        for fragment in [*SECRET_FRAGMENTS, SECRET_REVENUE, "rating", "suggested_credit_limit"]:
            assert fragment not in text, (url, fragment)
    company = api.get(f"/api/v1/companies/{pk}/").json()
    assert company["full_name"] and not {"rating", "revenue", "solvency", "statements"} & set(company)

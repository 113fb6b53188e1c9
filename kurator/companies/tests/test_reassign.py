"""Handing a client to another curator (R2): head of sales only, with a reason kept in the history, both
curators notified, the open inquiries following — in the service, the API and the curator page."""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kurator.accounts.tests.factories import api_token_key
from kurator.activities.models import Notification
from kurator.companies import services
from kurator.companies.models import Company
from kurator.companies.selectors import company_history
from kurator.core.errors import AccessDenied
from kurator.inquiries.models import Inquiry
from tests.factories import company_factory

pytestmark = pytest.mark.django_db


def make_inquiry(company: Company, curator: Any, status: str) -> Inquiry:
    return Inquiry.objects.create(
        channel="email", received_at=timezone.now(), company=company, curator=curator, status=status
    )


def snapshot() -> tuple[Any, ...]:
    return (
        list(Company.objects.order_by("pk").values()),
        list(Inquiry.objects.order_by("pk").values()),
        Company.history.count(),
        Inquiry.history.count(),
        Notification.objects.count(),
    )


@pytest.fixture
def client_company(manager):
    company = company_factory(actor=manager, full_name="ООО «Ромашка»")
    return {
        "company": company,
        "inquiries": {
            status: make_inquiry(company, manager, status)
            for status in ("new", "taken", "qualified", "converted", "rejected")
        },
    }


def test_reassign_records_the_reason_notifies_both_and_moves_open_inquiries(
    head, manager, other_manager, client_company, django_capture_on_commit_callbacks
):
    """R2: the head of sales hands the client over: the history names who and why, both curators are
    notified with a link to the dossier, open inquiries go to the new curator and closed ones stay."""
    company = client_company["company"]
    with django_capture_on_commit_callbacks(execute=True):
        result = services.company_reassign(
            actor=head, company=company, curator=other_manager, reason="Менеджер ушёл в отпуск"
        )
    assert result.curator == other_manager
    latest = company_history(company=company)[0]
    assert latest.reason == "Менеджер ушёл в отпуск"
    assert latest.user == head
    assert [c.field for c in latest.changes] == ["curator"]
    url = reverse("companies:detail", args=[company.pk])
    old_notice = Notification.objects.get(recipient=manager)
    new_notice = Notification.objects.get(recipient=other_manager)
    for notice in (old_notice, new_notice):
        assert notice.url == url and notice.kind == "curator_changed"
        assert "Менеджер ушёл в отпуск" in notice.text and "Ромашка" in notice.text
    inquiries = client_company["inquiries"]
    for status, inquiry in inquiries.items():
        inquiry.refresh_from_db()
        expected = other_manager if status in ("new", "taken", "qualified") else manager
        assert inquiry.curator == expected, status
    assert inquiries["taken"].history.first().history_change_reason == "Менеджер ушёл в отпуск"


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(head, other_manager, client_company, reason):
    """R2: no reason, no reassignment: the error names `reason` and nothing is written."""
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        services.company_reassign(
            actor=head, company=client_company["company"], curator=other_manager, reason=reason
        )
    assert list(error.value.error_dict) == ["reason"]
    assert snapshot() == before


def test_the_new_curator_must_be_a_seller_and_not_the_same(head, manager, finance, client_company):
    """R2: finance cannot curate and the current curator is not a change; the error names `curator`."""
    before = snapshot()
    for curator in (finance, manager, None, 987654):
        with pytest.raises(ValidationError) as error:
            services.company_reassign(
                actor=head, company=client_company["company"], curator=curator, reason="Причина"
            )
        assert "curator" in error.value.error_dict
    assert snapshot() == before


@pytest.mark.parametrize("role", ["manager", "other_manager", "senior_manager", "finance"])
def test_only_the_head_of_sales_reassigns(request, other_manager, senior_manager, client_company, role):
    """R2, R4: the curator, colleagues and finance cannot hand a client over; nothing is written."""
    actor = request.getfixturevalue(role)
    target = senior_manager if role == "other_manager" else other_manager
    before = snapshot()
    with pytest.raises(AccessDenied):
        services.company_reassign(
            actor=actor, company=client_company["company"], curator=target, reason="Хочу"
        )
    assert snapshot() == before


def test_a_merged_company_is_not_reassigned(head, manager, other_manager):
    """R2: a merged duplicate has no curator of its own any more: reassign the survivor instead."""
    survivor = company_factory(actor=manager, full_name="ООО «Альфа»")
    duplicate = company_factory(actor=manager, full_name="ООО «Альфа» (дубль)")
    services.company_merge(actor=head, survivor=survivor, duplicate=duplicate)
    before = snapshot()
    with pytest.raises(ValidationError):
        services.company_reassign(actor=head, company=duplicate, curator=other_manager, reason="Причина")
    assert snapshot() == before


# The curator page ----------------------------------------------------------------------------------------


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_the_curator_page_requires_a_reason_and_notifies(
    head, manager, other_manager, client_company, django_capture_on_commit_callbacks
):
    """R2: the "Change curator" page refuses an empty reason, then hands the client over with notices."""
    company = client_company["company"]
    client = login(head)
    url = reverse("companies:curator", args=[company.pk])
    before = snapshot()
    response = client.post(url, {"curator": other_manager.pk, "reason": ""})
    assert response.status_code == 200
    assert snapshot() == before
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"curator": other_manager.pk, "reason": "Перераспределение"})
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.curator == other_manager
    assert set(Notification.objects.values_list("recipient", flat=True)) == {manager.pk, other_manager.pk}
    client_company["inquiries"]["new"].refresh_from_db()
    assert client_company["inquiries"]["new"].curator == other_manager
    page = unescape(client.get(url).content.decode())
    assert "Both curators are notified" in page


def test_the_curator_page_is_closed_to_sellers(manager, other_manager, client_company):
    """R2, R4: the curator page answers 403 to the curator and colleagues."""
    company = client_company["company"]
    before = snapshot()
    for user in (manager, other_manager):
        response = login(user).post(
            reverse("companies:curator", args=[company.pk]), {"curator": other_manager.pk, "reason": "x"}
        )
        assert response.status_code == 403
    assert snapshot() == before


# The API ---------------------------------------------------------------------------------------------------


def api_client(user) -> APIClient:
    client = APIClient(headers={"Accept-Language": "en"})
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(user)}")
    return client


@pytest.mark.parametrize(
    "role", ["manager", "other_manager", "senior_manager", "head", "finance", "admin_user", None]
)
def test_reassign_endpoint_by_role(
    request, senior_manager, client_company, django_capture_on_commit_callbacks, role
):
    """R2, R4: POST /api/v1/companies/{id}/reassign/ — the head of sales and the administrator (200 with the
    company); the curator, colleagues and finance 403, anonymous 401; refusals write nothing."""
    user = request.getfixturevalue(role) if role else None
    company = client_company["company"]
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(user).post(
            f"/api/v1/companies/{company.pk}/reassign/",
            {"curator": senior_manager.pk, "reason": "Ключевой клиент"},
            format="json",
        )
    if role in ("head", "admin_user"):
        assert response.status_code == 200, response.content
        assert response.json()["curator"] == senior_manager.pk
        assert Notification.objects.filter(recipient=senior_manager, kind="curator_changed").exists()
    else:
        assert response.status_code == (401 if user is None else 403)
        assert snapshot() == before


def test_reassign_endpoint_validation(head, other_manager, finance, client_company):
    """R2: a missing reason or curator, or someone who cannot curate, is a 400 naming the field."""
    company = client_company["company"]
    client = api_client(head)
    before = snapshot()
    for payload, field in (
        ({"curator": other_manager.pk}, "reason"),
        ({"curator": other_manager.pk, "reason": " "}, "reason"),
        ({"reason": "Причина"}, "curator"),
        ({"curator": finance.pk, "reason": "Причина"}, "curator"),
        ({"curator": 987654, "reason": "Причина"}, "curator"),
    ):
        response = client.post(f"/api/v1/companies/{company.pk}/reassign/", payload, format="json")
        assert response.status_code == 400, (payload, response.content)
        assert field in response.json(), response.json()
    assert snapshot() == before
    assert client.post("/api/v1/companies/987654/reassign/", {}, format="json").status_code == 404

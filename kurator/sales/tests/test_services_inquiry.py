"""Inquiries convert into deals (S3, R2), and two people moving one deal at once (S3)."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.core.errors import EditConflict
from kurator.inquiries import services as inquiry_services
from kurator.inquiries.models import Inquiry
from kurator.sales import services
from kurator.sales.models import Deal, Stage
from tests.factories import company_factory, contact_factory


def stage(code: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, code=code)


def _inquiry_of(manager: User, company: Company) -> Inquiry:
    contact_factory(actor=manager, company=company, full_name="Сидоров Пётр", phones=["+7 916 555-44-33"])
    inquiry = inquiry_services.inquiry_create(actor=None, channel="phone", phone="+79165554433")
    assert inquiry.company_id == company.pk
    return inquiry_services.inquiry_take(actor=manager, inquiry=inquiry)


@pytest.mark.django_db
def test_a_taken_inquiry_converts_into_a_deal_of_its_client(manager, company):
    """S3, R2: the deal belongs to the client's curator, keeps the inquiry and its source; the inquiry is
    converted."""
    inquiry = _inquiry_of(manager, company)
    deal = inquiry_services.inquiry_convert(actor=manager, inquiry=inquiry, amount="1000")
    inquiry.refresh_from_db()
    assert inquiry.status == "converted"
    assert (deal.inquiry_id, deal.owner, deal.source_id, deal.amount) == (
        inquiry.pk,
        manager,
        inquiry.source_id,
        1000,
    )
    assert company.short_name in deal.title
    # The person the inquiry came from (same phone) is involved in the deal from the start.
    assert [c.full_name for c in deal.contacts.all()] == ["Сидоров Пётр"]


@pytest.mark.django_db
def test_an_inquiry_without_a_client_is_refused_and_nothing_is_written(manager):
    """S3: settle the client first; nothing is written."""
    inquiry = inquiry_services.inquiry_create(actor=None, channel="phone", phone="+79160000001")
    inquiry_services.inquiry_take(actor=manager, inquiry=inquiry)
    with pytest.raises(ValidationError) as caught:
        inquiry_services.inquiry_convert(actor=manager, inquiry=inquiry)
    assert caught.value.error_dict["company"][0].code == "no_company"
    inquiry.refresh_from_db()
    assert inquiry.status == "taken" and not Deal.objects.exists()


@pytest.mark.django_db
def test_the_inquiry_page_converts_and_opens_the_deal(client, manager, company):
    """S3: the inquiry page's action opens the new deal's page."""
    inquiry = _inquiry_of(manager, company)
    client.force_login(manager)
    page = client.get(reverse("inquiries:detail", args=[inquiry.pk]))
    assert reverse("inquiries:convert", args=[inquiry.pk]) in page.content.decode()
    response = client.post(reverse("inquiries:convert", args=[inquiry.pk]))
    deal = Deal.objects.get(inquiry=inquiry)
    assert response.status_code == 302 and response["Location"] == reverse("sales:detail", args=[deal.pk])


@pytest.mark.django_db
def test_the_inquiry_api_converts_and_answers_the_deal(manager, other_manager, company):
    """S3, R2: POST /api/v1/inquiries/{id}/convert/ answers the deal's id; a colleague gets 403."""
    from rest_framework.test import APIClient

    inquiry = _inquiry_of(manager, company)
    colleague = APIClient()
    colleague.force_authenticate(other_manager)
    assert colleague.post(f"/api/v1/inquiries/{inquiry.pk}/convert/", {}, format="json").status_code == 403
    api = APIClient()
    api.force_authenticate(manager)
    response = api.post(f"/api/v1/inquiries/{inquiry.pk}/convert/", {"amount": "250.00"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["deal"] == Deal.objects.get(inquiry=inquiry).pk
    assert response.json()["inquiry"]["status"] == "converted"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a real race needs two PostgreSQL connections")
@pytest.mark.django_db(transaction=True)
def test_two_people_moving_one_deal_at_once_one_wins(manager, head):
    """S3: two moves of the same version in two connections at once: exactly one succeeds, the other gets an
    edit conflict; the deal's history has one move."""
    company = company_factory(actor=manager)
    deal = services.deal_create(actor=manager, company=company, amount=1000)
    targets = {"manager": (manager, stage("negotiations")), "head": (head, stage("negotiations"))}
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def move(name: str) -> None:
        actor, target = targets[name]
        try:
            barrier.wait()
            services.deal_move(actor=actor, deal=deal, stage=target, expected_version=1)
            outcomes[name] = "moved"
        except EditConflict:
            outcomes[name] = "conflict"
        except ValidationError as exc:  # same stage after the winner moved (never reached: version first)
            outcomes[name] = f"refused {exc.messages}"
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(name,)) for name in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["conflict", "moved"]
    fresh = Deal.objects.get(pk=deal.pk)
    assert (fresh.stage.code, fresh.version) == ("negotiations", 2)
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

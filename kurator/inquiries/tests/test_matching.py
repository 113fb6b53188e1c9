"""The matcher (R2, S1): certain, strong and possible matches, each with the reasons people see."""

from __future__ import annotations

import pytest

from kurator.inquiries.matching import match_company
from tests.factories import company_factory, contact_factory

pytestmark = pytest.mark.django_db


def test_same_inn_is_certain(manager):
    """R2: the same INN is a certain match, and the reason names the INN."""
    company = company_factory(actor=manager, inn="7707083893", kpp="773601001", full_name='ПАО "Сбербанк"')
    result = match_company(inn="7707 083 893")
    assert result.confidence == "certain"
    assert result.company == company
    assert result.reasons[0]["code"] == "inn"
    assert "7707083893" in result.reasons[0]["text"]


def test_person_phone_is_strong(manager):
    """R2: the phone of one of the company's people is a strong match."""
    company = company_factory(actor=manager, full_name="ООО «Ромашка»")
    contact_factory(actor=manager, company=company, phones=["+7 495 123-45-67"])
    result = match_company(phones=["8 (495) 123 45 67"], name='ООО "Ромашка"')
    assert result.confidence == "strong"
    assert result.company == company
    assert [r["code"] for r in result.reasons] == ["phone", "name"]

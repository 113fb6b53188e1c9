"""The foundation's "done when" journey, in a real Chromium (D1, D2, D11, R2, R3)."""

from __future__ import annotations

import random
import re
from typing import Any, cast

import pytest

from kurator.accounts.models import Role, User
from kurator.companies.models import BankAccount, Company, Contact, DecisionRole
from kurator.core.requisites import generate_inn, generate_kpp, generate_ogrn, generate_settlement_account
from tests.e2e.helpers import log_in
from tests.factories import SBERBANK_BIK, SBERBANK_CORR, UserFactory, company_factory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def submit(page: Any, field: str) -> None:
    """Submit the form that holds ``field``."""
    page.click(f"form[method=post]:has([name={field}]) button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_manager_builds_a_dossier_and_cannot_edit_a_colleagues_client(page: Any, screenshot: Any) -> None:
    """D1, D2, D11, R2, R3: a manager logs in, is refused a wrong INN with the reason under the field,
    fixes it, adds a decision maker and a bank account, sees both on the History tab, reads a colleague's
    client and cannot edit it."""
    rng = random.Random(7)
    manager = cast(
        User, UserFactory(username="ivanov", role=Role.MANAGER, first_name="Иван", last_name="Иванов")
    )
    colleague = cast(
        User, UserFactory(username="petrova", role=Role.MANAGER, first_name="Ольга", last_name="Петрова")
    )
    colleague_client = company_factory(actor=colleague, full_name="АО «Газпромснаб»", city="Казань")

    log_in(page, manager.username)
    screenshot(page, "01-company-list")

    # A wrong INN (last digit changed) is refused with a message under the INN field, nothing is written.
    inn = generate_inn(rng, "legal")
    wrong_inn = inn[:-1] + str((int(inn[-1]) + 1) % 10)
    page.goto("/companies/new/")
    page.fill("[name=full_name]", "ООО «Ромашка»")
    page.fill("[name=inn]", wrong_inn)
    page.fill("[name=kpp]", generate_kpp(rng, inn))
    page.fill("[name=ogrn]", generate_ogrn(rng, "legal"))
    page.fill("[name=phones]", "8 (495) 123-45-67")
    page.fill("[name=city]", "Москва")
    submit(page, "inn")
    assert page.locator("[name=inn].is-invalid").count() == 1
    feedback = page.locator("[name=inn] ~ .invalid-feedback, [name=inn] + .invalid-feedback").first
    assert "ИНН" in feedback.inner_text()
    screenshot(page, "02-wrong-inn")
    assert not Company.objects.filter(curator=manager).exists()

    # Fixed: the company is created with the manager as its curator.
    page.fill("[name=inn]", " ".join([inn[:4], inn[4:]]))
    submit(page, "inn")
    company = Company.objects.get(inn=inn)
    assert company.curator == manager
    assert company.phones == ["+74951234567"]
    page.wait_for_url(re.compile(rf"/companies/{company.pk}/$"))
    screenshot(page, "03-dossier")

    # A decision maker (D2).
    page.goto(f"/companies/{company.pk}/people/new/")
    page.fill("[name=full_name]", "Сидоров Пётр Ильич")
    page.fill("[name=position]", "Генеральный директор")
    page.select_option("[name=decision_role]", DecisionRole.DECISION_MAKER.value)
    page.fill("[name=phones]", "+7 916 123 45 67")
    submit(page, "decision_role")
    assert Contact.objects.filter(company=company, decision_role=DecisionRole.DECISION_MAKER).count() == 1
    page.goto(f"/companies/{company.pk}/people/")
    assert "Сидоров Пётр Ильич" in page.content()
    screenshot(page, "04-people")

    # A bank account (D1).
    account = generate_settlement_account(rng, SBERBANK_BIK)
    page.goto(f"/companies/{company.pk}/bank-accounts/new/")
    page.fill("[name=bik]", SBERBANK_BIK)
    page.fill("[name=bank_name]", "ПАО Сбербанк")
    page.fill("[name=settlement_account]", account)
    page.fill("[name=correspondent_account]", SBERBANK_CORR)
    submit(page, "bik")
    assert BankAccount.objects.get(company=company).settlement_account == account

    # The History tab shows who did what (D11).
    page.goto(f"/companies/{company.pk}/history/")
    history = page.content()
    assert "Сидоров Пётр Ильич" in history
    assert account in history
    assert manager.full_name in history
    screenshot(page, "05-history")

    # Openness (R3): the colleague's client is readable; editing it is refused (R2).
    page.goto(f"/companies/{colleague_client.pk}/")
    assert "Газпромснаб" in page.content()
    assert page.locator(f"a[href$='/companies/{colleague_client.pk}/edit/']").count() == 0
    screenshot(page, "06-colleague-client")
    response = page.goto(f"/companies/{colleague_client.pk}/edit/")
    assert response is not None and response.status == 403
    before = colleague_client.version
    colleague_client.refresh_from_db()
    assert colleague_client.version == before

    # Search is case-insensitive for Cyrillic.
    page.goto("/companies/?q=газпром")
    assert "Газпромснаб" in page.content()
    screenshot(page, "07-search")

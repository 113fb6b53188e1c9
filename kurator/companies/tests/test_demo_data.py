"""The demo department (`manage.py demo_data`): valid requisites, every role, created once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from kurator.accounts.models import Role, User
from kurator.companies.demo import BANKS, CITIES, DEMO_USERS, DemoGenerator, Dictionaries
from kurator.companies.dossier import company_derived_fields
from kurator.companies.models import BankAccount, Company, Contact, DecisionRole, LegalForm
from kurator.core.requisites import (
    normalize_phone,
    validate_bik,
    validate_correspondent_account,
    validate_inn,
    validate_kpp,
    validate_ogrn,
    validate_settlement_account,
)


def run_demo_data(*args: str) -> str:
    out = StringIO()
    call_command("demo_data", *args, stdout=out)
    return out.getvalue()


def row_counts() -> tuple[int, ...]:
    return (
        User.objects.count(),
        Company.objects.count(),
        Contact.objects.count(),
        BankAccount.objects.count(),
        Company.history.count(),
        Contact.history.count(),
        BankAccount.history.count(),
    )


def test_demo_phones_are_valid_numbers():
    """D1: generated mobile and office numbers exist in the Russian plan (the services refuse others)."""
    generator = DemoGenerator(seed=1, curators=[None], dictionaries=Dictionaries([], [], [], [], []))
    for code in [c[2] for c in CITIES]:
        for _ in range(200):
            number = generator.landline(code)
            assert normalize_phone(number) == number
    for _ in range(5000):
        number = generator.mobile()
        assert normalize_phone(number) == number


def test_demo_banks_have_real_valid_requisites():
    """D1: every bank the demo uses has a valid BIK and its own correspondent account."""
    for _name, bik, correspondent in BANKS:
        assert validate_bik(bik) == bik
        assert validate_correspondent_account(correspondent, bik) == correspondent
        assert correspondent.endswith(bik[-3:])


@pytest.mark.django_db
def test_demo_data_creates_valid_companies_and_every_role():
    """D1, D2, D9, R4: demo requisites pass every check; people form an org tree; every role exists."""
    output = run_demo_data("--companies", "20")

    assert Company.objects.count() == 20
    for company in Company.objects.prefetch_related("contacts", "bank_accounts"):
        assert validate_inn(company.inn) == company.inn
        assert validate_ogrn(company.ogrn) == company.ogrn
        if company.legal_form == LegalForm.IP:
            assert len(company.inn) == 12 and len(company.ogrn) == 15 and company.kpp == ""
        else:
            assert len(company.inn) == 10 and len(company.ogrn) == 13
            assert validate_kpp(company.kpp) == company.kpp
        assert company.short_name and company.full_name and company.city
        assert all(normalize_phone(p) == p for p in company.phones)
        for account in company.bank_accounts.all():
            assert validate_settlement_account(account.settlement_account, account.bik)
            assert validate_correspondent_account(account.correspondent_account, account.bik)
        people = list(company.contacts.all())
        assert 2 <= len(people) <= 5
        roots = [p for p in people if p.reports_to_id is None]
        assert (
            len(roots) == 1 and roots[0].decision_role == DecisionRole.DECISION_MAKER and roots[0].is_leader
        )
        assert all(p.reports_to is None or p.reports_to.company_id == company.pk for p in people)
        assert all(normalize_phone(phone) == phone for p in people for phone in p.phones)
        # Derived fields are what the services compute (the data went through them).
        derived = company_derived_fields(company)
        assert (company.completeness, company.search_text) == (
            derived["completeness"],
            derived["search_text"],
        )
        assert company.curator.role in (Role.MANAGER, Role.SENIOR_MANAGER, Role.HEAD_OF_SALES)
    assert Company.objects.filter(referred_by__isnull=False, source__is_recommendation=False).count() == 0

    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert User.objects.filter(role=Role.MANAGER).count() == 3
    for demo in DEMO_USERS:
        user = User.objects.get(username=demo.username)
        assert user.role == demo.role and user.check_password(demo.password)
        assert demo.username in output and demo.password in output


@pytest.mark.django_db
def test_demo_data_if_empty_creates_nothing_the_second_time_but_prints_logins():
    """R4: `make run` calls `demo_data --if-empty` on every start; only the first one writes anything."""
    run_demo_data("--companies", "5", "--if-empty")
    before = row_counts()

    output = run_demo_data("--if-empty")

    assert row_counts() == before
    for demo in DEMO_USERS:
        assert demo.username in output and demo.password in output


@pytest.mark.django_db
def test_demo_data_without_if_empty_adds_companies_without_clashing():
    """D1: a second run adds companies whose INN/KPP never clash with those already in the base."""
    run_demo_data("--companies", "5")
    run_demo_data("--companies", "5")

    assert Company.objects.count() == 10
    assert User.objects.count() == len(DEMO_USERS)


@pytest.mark.django_db
def test_generator_is_deterministic_for_a_seed():
    """The bench and the demo rely on the same seed giving the same department."""
    call_command("demo_data", "--companies", "0", stdout=StringIO())
    curators = list(User.objects.filter(role=Role.MANAGER))

    def inns(seed: int) -> list[str]:
        generator = DemoGenerator(seed=seed, curators=curators, dictionaries=Dictionaries.load())
        return [generator.company().fields["inn"] for _ in range(10)]

    assert inns(7) == inns(7)
    assert inns(7) != inns(8)

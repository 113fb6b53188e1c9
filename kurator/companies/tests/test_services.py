"""Behaviour of the dossier's write services: validation (D1), curator (R2), people (D2), bank accounts,
completeness and edit conflicts. Every refusal is checked to have written nothing."""

from __future__ import annotations

import random
from datetime import date
from typing import Any, cast

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kurator.accounts.models import Role, User
from kurator.companies import services
from kurator.companies.dossier import CHECKLIST, checklist_status, completeness_of, missing_items
from kurator.companies.models import (
    ApplicationSphere,
    BankAccount,
    Company,
    Contact,
    ContactSource,
    DecisionRole,
    DeliveryMethod,
    LegalForm,
    ProductCategory,
    SalesTechnology,
)
from kurator.companies.selectors import company_history, contact_tree
from kurator.core.errors import AccessDenied, EditConflict
from kurator.core.requisites import (
    generate_bik,
    generate_correspondent_account,
    generate_inn,
    generate_kpp,
    generate_ogrn,
    generate_settlement_account,
)
from tests.factories import UserFactory, bank_account_factory, company_factory, contact_factory

SBERBANK: dict[str, str] = {
    "full_name": "ПАО Сбербанк",
    "inn": "7707083893",
    "kpp": "773601001",
    "ogrn": "1027700132195",
}
SBERBANK_BIK = "044525225"
SBERBANK_CORR = "30101810400000000225"
# A valid settlement account at Sberbank (control key computed with the BIK).
SETTLEMENT = generate_settlement_account(random.Random(1), SBERBANK_BIK)
VTB_BIK = "044525187"
VTB_CORR = "30101810700000000187"


def make_user(**fields: Any) -> User:
    """A user of the department (the factory is untyped)."""
    return cast(User, UserFactory(**fields))


def snapshot() -> dict[str, int]:
    """Row counts of the dossier and its history: a refused action must leave them all unchanged."""
    return {
        "companies": Company.objects.count(),
        "company_history": Company.history.count(),
        "bank_accounts": BankAccount.objects.count(),
        "bank_account_history": BankAccount.history.count(),
        "contacts": Contact.objects.count(),
        "contact_history": Contact.history.count(),
    }


def codes(exc: pytest.ExceptionInfo[ValidationError], field: str) -> list[str]:
    return [error.code for error in exc.value.error_dict[field]]  # type: ignore[misc]


def messages(exc: pytest.ExceptionInfo[ValidationError], field: str) -> str:
    return " ".join(exc.value.message_dict[field])


# D1: requisites ------------------------------------------------------------------------------------------


def test_sberbank_real_requisites_are_accepted(manager):
    """D1: Sberbank's published requisites pass every check and are stored as given."""
    company = services.company_create(actor=manager, **SBERBANK)
    account = services.bank_account_create(
        actor=manager,
        company=company,
        bik=SBERBANK_BIK,
        correspondent_account=SBERBANK_CORR,
        settlement_account=SETTLEMENT,
        bank_name="ПАО Сбербанк",
    )
    company.refresh_from_db()
    assert (company.inn, company.kpp, company.ogrn) == ("7707083893", "773601001", "1027700132195")
    assert company.legal_form == LegalForm.PAO  # detected from the full name
    assert company.short_name == "ПАО Сбербанк"
    account.refresh_from_db()
    assert (account.bik, account.correspondent_account) == (SBERBANK_BIK, SBERBANK_CORR)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("inn", "7707083894", "inn_checksum"),  # check digit changed
        ("inn", "7707083393", "inn_checksum"),  # a middle digit changed
        ("ogrn", "1027700132196", "ogrn_checksum"),
        ("ogrn", "1027700182195", "ogrn_checksum"),
        # KPP has no checksum, only a format: the mutations that can be caught are a lost digit and a
        # letter in a digit position.
        ("kpp", "77360100", "kpp_format"),
        ("kpp", "7736010O1", "kpp_format"),
    ],
)
def test_company_requisite_with_one_digit_mutated_is_refused(manager, field, value, code):
    """D1: a one-digit mutation of INN, KPP or OGRN is refused naming the field; nothing is written."""
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.company_create(actor=manager, **{**SBERBANK, field: value})
    assert set(exc.value.error_dict) == {field}
    assert codes(exc, field) == [code]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("bik", "054525225", "bik_format"),
        ("correspondent_account", "30101810400000000226", "account_key"),
        ("correspondent_account", "30101810400000001225", "account_key"),
        ("settlement_account", SETTLEMENT[:-1] + str((int(SETTLEMENT[-1]) + 1) % 10), "account_key"),
    ],
)
def test_bank_requisite_with_one_digit_mutated_is_refused(manager, field, value, code):
    """D1: a one-digit mutation of BIK, correspondent or settlement account is refused naming the field;
    nothing is written."""
    company = services.company_create(actor=manager, **SBERBANK)
    before = snapshot()
    fields = {"bik": SBERBANK_BIK, "correspondent_account": SBERBANK_CORR, "settlement_account": SETTLEMENT}
    fields[field] = value
    with pytest.raises(ValidationError) as exc:
        services.bank_account_create(actor=manager, company=company, **fields)
    assert field in exc.value.error_dict
    assert code in codes(exc, field)
    assert snapshot() == before


def test_bik_mutation_in_bank_number_is_caught_by_the_settlement_account(manager):
    """D1: a BIK with its last digit changed is well-formed, but the settlement account's key no longer
    matches it, so the account is refused."""
    company = services.company_create(actor=manager, **SBERBANK)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.bank_account_create(
            actor=manager,
            company=company,
            bik="044525226",
            correspondent_account=SBERBANK_CORR,
            settlement_account=SETTLEMENT,
        )
    assert codes(exc, "settlement_account") == ["account_key"]
    assert snapshot() == before


def test_requisites_with_spaces_and_dashes_are_cleaned(manager):
    """D1: input is cleaned before the check: spaces, dashes and non-breaking spaces disappear."""
    company = services.company_create(
        actor=manager,
        full_name="  ПАО   Сбербанк ",
        inn="7707 083 893",
        kpp="7736-01-001",
        ogrn="1 027 700\u00a0132 195",
    )
    account = services.bank_account_create(
        actor=manager,
        company=company,
        bik="04 45 25 225",
        correspondent_account="301 01 810 4 0000 0000 225",
        settlement_account="-".join([SETTLEMENT[:5], SETTLEMENT[5:10], SETTLEMENT[10:]]),
    )
    company.refresh_from_db()
    assert (company.full_name, company.inn, company.kpp, company.ogrn) == (
        "ПАО Сбербанк",
        "7707083893",
        "773601001",
        "1027700132195",
    )
    assert (account.bik, account.correspondent_account, account.settlement_account) == (
        SBERBANK_BIK,
        SBERBANK_CORR,
        SETTLEMENT,
    )


def test_branch_with_another_kpp_is_allowed_but_same_inn_and_kpp_is_refused(manager, other_manager):
    """D1: INN + KPP is unique; a branch shares the INN with another KPP. The refusal names `inn` and the
    company already in the base, so the user knows whom to ask."""
    head_office = services.company_create(actor=manager, **SBERBANK)
    branch = services.company_create(
        actor=other_manager,
        full_name="ПАО Сбербанк, Московский банк",
        inn="7707083893",
        kpp="775002002",
    )
    assert branch.inn == head_office.inn
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.company_create(
            actor=other_manager, full_name="Сбербанк (дубль)", inn="7707 083893", kpp="773601001"
        )
    assert codes(exc, "inn") == ["duplicate_inn"]
    assert "ПАО Сбербанк" in messages(exc, "inn")
    assert snapshot() == before


def test_update_to_another_companys_inn_and_kpp_is_refused(manager):
    """D1: uniqueness of INN + KPP also holds when a dossier is edited."""
    services.company_create(actor=manager, **SBERBANK)
    other = company_factory(actor=manager)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.company_update(actor=manager, company=other, inn=SBERBANK["inn"], kpp=SBERBANK["kpp"])
    assert codes(exc, "inn") == ["duplicate_inn"]
    other.refresh_from_db()
    assert other.inn != SBERBANK["inn"]
    assert snapshot() == before


def test_twelve_digit_inn_with_kpp_is_refused(manager):
    """D1: a sole trader (12-digit INN) has no KPP."""
    inn = generate_inn(random.Random(7), "person")
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.company_create(actor=manager, full_name="ИП Иванов Иван Иванович", inn=inn, kpp="773601001")
    assert codes(exc, "kpp") == ["kpp_for_person"]
    assert snapshot() == before


def test_ogrn_of_another_kind_than_the_inn_is_refused(manager):
    """D1: a company's 10-digit INN goes with a 13-digit OGRN, a sole trader's 12-digit INN with a 15-digit
    OGRNIP; a mix is refused naming `ogrn`."""
    rng = random.Random(8)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.company_create(actor=manager, **{**SBERBANK, "ogrn": generate_ogrn(rng, "person")})
    assert codes(exc, "ogrn") == ["ogrn_kind_mismatch"]
    with pytest.raises(ValidationError) as exc:
        services.company_create(
            actor=manager, full_name="ИП Петров", inn=generate_inn(rng, "person"), ogrn=SBERBANK["ogrn"]
        )
    assert codes(exc, "ogrn") == ["ogrn_kind_mismatch"]
    assert snapshot() == before


def test_legal_form_of_another_kind_than_the_inn_is_refused(manager):
    """D1: a sole trader (ИП) has a 12-digit INN; an organisation a 10-digit one."""
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.company_create(
            actor=manager, full_name="Петров", legal_form=LegalForm.IP, inn=SBERBANK["inn"]
        )
    assert codes(exc, "inn") == ["inn_kind_mismatch"]
    with pytest.raises(ValidationError) as exc:
        services.company_create(
            actor=manager, full_name="ООО «Ромашка»", inn=generate_inn(random.Random(9), "person")
        )
    assert codes(exc, "inn") == ["inn_kind_mismatch"]
    assert snapshot() == before


def test_several_errors_are_reported_together(manager):
    """D1: one answer names every bad field, so the user fixes them in one go; nothing is written."""
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.company_create(
            actor=manager,
            full_name="",
            inn="7707083894",
            kpp="77360100",
            ogrn="1027700132196",
            phones=["123"],
            emails=["not-an-email"],
            website="http://",
            status="unknown",
        )
    assert set(exc.value.error_dict) >= {
        "full_name",
        "inn",
        "kpp",
        "ogrn",
        "phones",
        "emails",
        "website",
        "status",
    }
    assert snapshot() == before


def test_refusal_of_a_company_update_writes_nothing(manager, company):
    """D1, D11: a refused edit leaves the record, its version and its history as they were."""
    version, name = company.version, company.full_name
    before = snapshot()
    with pytest.raises(ValidationError):
        services.company_update(actor=manager, company=company, full_name="Новое имя", inn="7707083894")
    company.refresh_from_db()
    assert (company.version, company.full_name) == (version, name)
    assert snapshot() == before


# Phones -------------------------------------------------------------------------------------------------


def test_phones_in_russian_spellings_are_stored_as_one_e164_number(manager):
    """D1: `8 (495) …` and `+7 495 …` are the same number; duplicates collapse."""
    company = company_factory(
        actor=manager, phones=["8 (495) 123-45-67", "+7 495 123 45 67", "+7 (916) 000-11-22"]
    )
    company.refresh_from_db()
    assert company.phones == ["+74951234567", "+79160001122"]


def test_phones_given_as_one_office_cell_are_split(manager):
    """D1: a cell with several numbers separated by `;` or `,` becomes a list."""
    company = company_factory(actor=manager, phones="8 (495) 123-45-67; 8-916-000-11-22")
    assert company.phones == ["+74951234567", "+79160001122"]


def test_invalid_phone_is_refused_naming_phones(manager):
    """D1: a number that does not exist is refused with the field named; nothing is written."""
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        company_factory(actor=manager, phones=["+7 495 123 45 67", "12345"])
    assert codes(exc, "phones") == ["phone_invalid"]
    assert snapshot() == before


def test_person_phones_are_normalised_too(manager, company):
    """D2: people's phones are stored as E.164 like the company's."""
    person = contact_factory(actor=manager, company=company, phones=["8 (916) 000-11-22", "+79160001122"])
    assert person.phones == ["+79160001122"]


# R2: curator --------------------------------------------------------------------------------------------


def test_manager_creating_a_company_becomes_its_curator(manager):
    """R2: a company created by a manager has that manager as its curator."""
    company = company_factory(actor=manager)
    company.refresh_from_db()
    assert company.curator == manager
    assert company.created_by == manager


def test_manager_cannot_give_a_new_company_to_another_curator(manager, other_manager):
    """R2: only the head of sales picks another curator; the refusal names `curator`, nothing is written."""
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        company_factory(actor=manager, curator=other_manager)
    assert codes(exc, "curator") == ["curator_forbidden"]
    assert snapshot() == before


def test_manager_may_name_himself_as_curator(manager):
    """R2: naming oneself is the default, not a change of curator."""
    company = company_factory(actor=manager, curator=manager)
    assert company.curator == manager


def test_head_of_sales_picks_the_curator_and_changes_it_with_a_reason(head, manager, other_manager):
    """R2, D11: the head of sales gives a new company to a manager and later moves it to another; the
    history keeps the reason and the old → new curator."""
    company = company_factory(actor=head, curator=manager)
    assert company.curator == manager
    assert company.created_by == head

    services.company_change_curator(
        actor=head, company=company, curator=other_manager, reason="Перераспределение клиентов"
    )
    company.refresh_from_db()
    assert company.curator == other_manager
    latest = company_history(company=company)[0]
    assert latest.user == head
    assert latest.reason == "Перераспределение клиентов"
    change = next(c for c in latest.changes if c.field == "curator")
    assert (change.old, change.new) == (manager.full_name, other_manager.full_name)


def test_manager_cannot_change_the_curator_through_an_edit(manager, other_manager, company):
    """R2: the curator edits the dossier but cannot give it away; nothing is written, not even the other
    fields of the same edit."""
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.company_update(actor=manager, company=company, curator=other_manager, notes="передаю")
    assert codes(exc, "curator") == ["curator_forbidden"]
    company.refresh_from_db()
    assert company.curator == manager
    assert company.notes == ""
    assert snapshot() == before


def test_manager_cannot_call_change_curator(manager, other_manager, company):
    """R2, R4: changing a curator is the head of sales' permission."""
    before = snapshot()
    with pytest.raises(AccessDenied):
        services.company_change_curator(actor=manager, company=company, curator=other_manager)
    assert snapshot() == before


def test_curator_must_be_an_active_sales_employee(head, finance, company):
    """R2: finance staff or a blocked user cannot curate a client."""
    blocked = make_user(username="blocked", role=Role.MANAGER, is_active=False)
    before = snapshot()
    for candidate in (finance, blocked):
        with pytest.raises(ValidationError) as exc:
            services.company_change_curator(actor=head, company=company, curator=candidate)
        assert codes(exc, "curator") == ["invalid_curator"]
    assert snapshot() == before


def test_roles_that_may_not_write_are_refused(finance, other_manager, company):
    """R4: finance creates and edits nothing; a manager does not edit a colleague's client."""
    before = snapshot()
    with pytest.raises(AccessDenied):
        company_factory(actor=finance)
    for actor in (finance, other_manager):
        with pytest.raises(AccessDenied):
            services.company_update(actor=actor, company=company, notes="x")
        with pytest.raises(AccessDenied):
            contact_factory(actor=actor, company=company)
        with pytest.raises(AccessDenied):
            bank_account_factory(actor=actor, company=company)
    assert snapshot() == before


# Edit conflict ------------------------------------------------------------------------------------------


def test_stale_expected_version_raises_edit_conflict_and_writes_nothing(manager, head, company):
    """D11: two people editing one dossier: the second save, made on an old version, is refused (409)."""
    opened_version = company.version
    services.company_update(
        actor=head, company=company, expected_version=opened_version, notes="первая правка"
    )
    before = snapshot()
    with pytest.raises(EditConflict):
        services.company_update(
            actor=manager, company=company, expected_version=opened_version, notes="вторая правка"
        )
    company.refresh_from_db()
    assert company.notes == "первая правка"
    assert company.version == opened_version + 1
    assert snapshot() == before


# D2: people ---------------------------------------------------------------------------------------------


def test_reports_to_must_be_a_person_of_the_same_company(manager, company):
    """D2: the org structure stays inside one company."""
    stranger_company = company_factory(actor=manager)
    stranger = contact_factory(actor=manager, company=stranger_company, full_name="Чужой Человек")
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        contact_factory(actor=manager, company=company, reports_to=stranger)
    assert codes(exc, "reports_to") == ["other_company"]
    assert snapshot() == before


def test_reports_to_cycle_is_refused(manager, company):
    """D2: nobody is their own boss, directly or through others."""
    director = contact_factory(actor=manager, company=company, full_name="Директор")
    deputy = contact_factory(actor=manager, company=company, full_name="Заместитель", reports_to=director)
    clerk = contact_factory(actor=manager, company=company, full_name="Специалист", reports_to=deputy)
    before = snapshot()
    for boss in (clerk, deputy, director):
        with pytest.raises(ValidationError) as exc:
            services.contact_update(actor=manager, contact=director, reports_to=boss)
        assert codes(exc, "reports_to") == ["cycle"]
    director.refresh_from_db()
    assert director.reports_to is None
    assert snapshot() == before


def test_contact_tree_builds_the_org_forest(manager, company):
    """D2: the org structure is shown as a tree; people with no boss in the dossier are roots."""
    director = contact_factory(actor=manager, company=company, full_name="А Директор")
    chief_accountant = contact_factory(
        actor=manager, company=company, full_name="Б Главбух", reports_to=director
    )
    buyer = contact_factory(actor=manager, company=company, full_name="В Закупщик", reports_to=director)
    accountant = contact_factory(
        actor=manager, company=company, full_name="Г Бухгалтер", reports_to=chief_accountant
    )
    guard = contact_factory(actor=manager, company=company, full_name="Д Охранник")
    people = list(Contact.objects.filter(company=company).order_by("full_name"))

    forest = contact_tree(people)

    assert [node.contact for node in forest] == [director, guard]
    assert [node.contact for node in forest[0].children] == [chief_accountant, buyer]
    assert [node.contact for node in forest[0].children[0].children] == [accountant]
    assert forest[1].children == []


def test_deleting_a_person_reattaches_subordinates_to_their_boss(manager, company):
    """D2, D11: removing a middle manager keeps the tree whole; the deletion stays in the history."""
    director = contact_factory(actor=manager, company=company, full_name="Директор")
    deputy = contact_factory(actor=manager, company=company, full_name="Заместитель", reports_to=director)
    clerk1 = contact_factory(actor=manager, company=company, full_name="Специалист 1", reports_to=deputy)
    clerk2 = contact_factory(actor=manager, company=company, full_name="Специалист 2", reports_to=deputy)

    deputy_id = deputy.pk
    services.contact_delete(actor=manager, contact=deputy)

    assert not Contact.objects.filter(pk=deputy_id).exists()
    for clerk in (clerk1, clerk2):
        clerk.refresh_from_db()
        assert clerk.reports_to == director
    deleted = Contact.history.get(id=deputy_id, history_type="-")
    assert deleted.history_user == manager
    # The move of each subordinate is a change of their record and is kept too (D11).
    assert Contact.history.filter(id=clerk1.pk, reports_to_id=director.pk).exists()


def test_deleting_a_root_person_makes_subordinates_roots(manager, company):
    """D2: subordinates of a person with no boss become roots of the tree."""
    director = contact_factory(actor=manager, company=company, full_name="Директор")
    deputy = contact_factory(actor=manager, company=company, full_name="Заместитель", reports_to=director)
    services.contact_delete(actor=manager, contact=director)
    deputy.refresh_from_db()
    assert deputy.reports_to is None


def test_person_birthday_in_the_future_is_refused(manager, company):
    """D2, D10: a birthday is a past date."""
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        contact_factory(actor=manager, company=company, birthday=date(2999, 1, 1))
    assert codes(exc, "birthday") == ["future_date"]
    assert snapshot() == before


# Bank accounts (D1) -------------------------------------------------------------------------------------


def _account(manager, company, seed: int, **fields: Any) -> BankAccount:
    settlement = generate_settlement_account(random.Random(seed), SBERBANK_BIK)
    return bank_account_factory(actor=manager, company=company, settlement_account=settlement, **fields)


def test_first_bank_account_is_primary(manager, company):
    """D1: the first account of a company is its primary one, even if not asked."""
    first = _account(manager, company, 1, is_primary=False)
    second = _account(manager, company, 2)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (True, False)


def test_new_primary_account_demotes_the_old_one(manager, company):
    """D1, D11: one primary account per company; the demotion is kept in the history."""
    first = _account(manager, company, 1)
    second = _account(manager, company, 2)
    services.bank_account_update(actor=manager, account=second, is_primary=True)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)
    assert BankAccount.objects.filter(company=company, is_primary=True).count() == 1
    assert BankAccount.history.filter(id=first.pk, is_primary=False).exists()

    third = _account(manager, company, 3, is_primary=True)
    assert list(BankAccount.objects.filter(company=company, is_primary=True)) == [third]


def test_database_allows_one_primary_account_only(manager, company):
    """D1: the one-primary rule is a database constraint, not only a service rule."""
    _account(manager, company, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        BankAccount.objects.create(
            company=company, bik=SBERBANK_BIK, settlement_account=SETTLEMENT, is_primary=True
        )


def test_primary_account_cannot_simply_be_unmarked(manager, company):
    """D1: a company with accounts keeps one primary; the user is told to choose another instead."""
    first = _account(manager, company, 1)
    _account(manager, company, 2)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.bank_account_update(actor=manager, account=first, is_primary=False)
    assert codes(exc, "is_primary") == ["primary_required"]
    assert snapshot() == before


def test_deleting_the_primary_account_promotes_another(manager, company):
    """D1: after the primary account is deleted the company still has one primary."""
    first = _account(manager, company, 1)
    second = _account(manager, company, 2)
    first_id = first.pk
    services.bank_account_delete(actor=manager, account=first)
    second.refresh_from_db()
    assert second.is_primary
    assert BankAccount.history.filter(id=first_id, history_type="-", history_user=manager).exists()


def test_correspondent_account_must_match_the_bik(manager, company):
    """D1: VTB's correspondent account with Sberbank's BIK is refused naming the field, although its key
    alone would pass (both BIKs share the digits the key depends on); so is a wrong key."""
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        bank_account_factory(actor=manager, company=company, correspondent_account=VTB_CORR)
    assert codes(exc, "correspondent_account") == ["account_bik_mismatch"]
    with pytest.raises(ValidationError) as exc:
        bank_account_factory(actor=manager, company=company, correspondent_account="30101810500000000225")
    assert codes(exc, "correspondent_account") == ["account_key"]
    assert snapshot() == before
    account = bank_account_factory(
        actor=manager,
        company=company,
        bik=VTB_BIK,
        correspondent_account=VTB_CORR,
        settlement_account=generate_settlement_account(random.Random(3), VTB_BIK),
    )
    assert account.correspondent_account == VTB_CORR


def test_same_account_twice_is_refused(manager, company):
    """D1: an account is entered once per company."""
    _account(manager, company, 1)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        _account(manager, company, 1)
    assert codes(exc, "settlement_account") == ["duplicate"]
    assert snapshot() == before


def test_bank_account_update_revalidates_against_a_new_bik(manager, company):
    """D1: changing the BIK alone re-checks the stored accounts against it."""
    account = _account(manager, company, 1)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.bank_account_update(actor=manager, account=account, bik=VTB_BIK)
    assert "settlement_account" in exc.value.error_dict
    assert snapshot() == before


# Completeness -------------------------------------------------------------------------------------------


def _status(company: Company) -> dict[str, bool]:
    company.refresh_from_db()
    return checklist_status(
        company,
        list(company.contacts.all()),
        company.bank_accounts.exists(),
        company.product_categories.exists(),
    )


def _fill_everything(actor, company: Company) -> None:
    services.company_update(
        actor=actor,
        company=company,
        legal_address="Москва, ул. Вавилова, 19",
        actual_address="Москва, ул. Вавилова, 19",
        phones=["+7 495 500 55 50"],
        emails=["info@example.ru"],
        website="example.ru",
        founded_on=date(1991, 6, 20),
        source=ContactSource.objects.first(),
        application_sphere=ApplicationSphere.objects.first(),
        delivery_method=DeliveryMethod.objects.first(),
        sales_technology=SalesTechnology.objects.first(),
        product_categories=list(ProductCategory.objects.all()[:2]),
    )
    contact_factory(
        actor=actor,
        company=company,
        decision_role=DecisionRole.DECISION_MAKER,
        is_leader=True,
        birthday=date(1970, 3, 8),
        phones=["+7 916 000 11 22"],
    )
    bank_account_factory(actor=actor, company=company)


def test_completeness_grows_as_the_checklist_is_filled(manager):
    """D1, D2, D9, D10: the score is the share of the book's checklist filled; missing items are listed."""
    company = services.company_create(actor=manager, full_name="ООО «Ромашка»")
    status = _status(company)
    empty_score = company.completeness
    assert empty_score == completeness_of(status)
    assert {item.code for item in missing_items(status)} >= {"inn", "kpp", "ogrn", "decision_maker", "phones"}

    services.company_update(
        actor=manager, company=company, inn=SBERBANK["inn"], kpp=SBERBANK["kpp"], ogrn=SBERBANK["ogrn"]
    )
    company.refresh_from_db()
    with_requisites = company.completeness
    assert with_requisites > empty_score
    assert {"inn", "kpp", "ogrn"}.isdisjoint(item.code for item in missing_items(_status(company)))

    contact_factory(actor=manager, company=company, decision_role=DecisionRole.DECISION_MAKER)
    company.refresh_from_db()
    assert company.completeness > with_requisites
    assert "decision_maker" not in {item.code for item in missing_items(_status(company))}

    _fill_everything(manager, company)
    company.refresh_from_db()
    assert company.completeness == 100
    assert missing_items(_status(company)) == []


def test_person_who_left_does_not_count_as_decision_maker(manager, company):
    """D2: a decision maker who no longer works at the company leaves the item missing."""
    person = contact_factory(actor=manager, company=company, decision_role=DecisionRole.DECISION_MAKER)
    assert _status(company)["decision_maker"]
    services.contact_update(actor=manager, contact=person, is_active=False)
    assert not _status(company)["decision_maker"]
    assert company.completeness < 100


def test_sole_trader_is_complete_without_kpp(manager):
    """D1: a sole trader (ИП, 12-digit INN) has no KPP, and its dossier is complete without one."""
    rng = random.Random(11)
    company = services.company_create(
        actor=manager,
        full_name="ИП Иванов Иван Иванович",
        inn=generate_inn(rng, "person"),
        ogrn=generate_ogrn(rng, "person"),
    )
    assert company.legal_form == LegalForm.IP
    _fill_everything(manager, company)
    company.refresh_from_db()
    assert company.kpp == ""
    assert company.completeness == 100
    assert missing_items(_status(company)) == []
    assert len(CHECKLIST) == len(_status(company))


# Hypothesis: any valid generated requisites are accepted and round-trip ------------------------------------


def _spaced(rng: random.Random, number: str) -> str:
    """The number as people type it: groups split by spaces or dashes."""
    out = []
    for index, digit in enumerate(number):
        if index and rng.random() < 0.2:
            out.append(rng.choice([" ", "-", "\u00a0"]))
        out.append(digit)
    return "".join(out)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**32), sole_trader=st.booleans())
def test_generated_valid_requisites_are_always_accepted(manager, seed, sole_trader):
    """D1: for any valid generated INN, KPP, OGRN, BIK and accounts, creation succeeds and stores the
    cleaned numbers unchanged."""
    rng = random.Random(seed)
    kind = "person" if sole_trader else "legal"
    inn = generate_inn(rng, kind)
    kpp = "" if sole_trader else generate_kpp(rng, inn)
    ogrn = generate_ogrn(rng, kind)
    bik = generate_bik(rng)
    corr = generate_correspondent_account(rng, bik)
    settlement = generate_settlement_account(rng, bik, "40802" if sole_trader else "40702")
    # Each example runs in its own savepoint, rolled back, so examples never collide on INN + KPP.
    with transaction.atomic():
        company = services.company_create(
            actor=manager,
            full_name=("ИП Тестов" if sole_trader else "ООО «Тест»"),
            inn=_spaced(rng, inn),
            kpp=_spaced(rng, kpp),
            ogrn=_spaced(rng, ogrn),
        )
        account = services.bank_account_create(
            actor=manager,
            company=company,
            bik=_spaced(rng, bik),
            correspondent_account=_spaced(rng, corr),
            settlement_account=_spaced(rng, settlement),
        )
        stored = Company.objects.get(pk=company.pk)
        assert (stored.inn, stored.kpp, stored.ogrn) == (inn, kpp, ogrn)
        stored_account = BankAccount.objects.get(pk=account.pk)
        assert (
            stored_account.bik,
            stored_account.correspondent_account,
            stored_account.settlement_account,
        ) == (
            bik,
            corr,
            settlement,
        )
        assert stored_account.is_primary
        transaction.set_rollback(True)


# D9 purchase profile, D10 dates, dictionaries ---------------------------------------------------------------


def test_purchase_profile_is_stored(manager, company):
    """D9: application sphere, product categories, delivery method and sales technology are kept."""
    categories = list(ProductCategory.objects.order_by("position")[:3])
    company = services.company_update(
        actor=manager,
        company=company,
        application_sphere=ApplicationSphere.objects.first(),
        delivery_method=DeliveryMethod.objects.order_by("position")[0].pk,
        sales_technology=SalesTechnology.objects.first(),
        product_categories=[c.pk for c in categories],
    )
    company.refresh_from_db()
    assert company.application_sphere == ApplicationSphere.objects.first()
    assert company.delivery_method == DeliveryMethod.objects.first()
    assert company.sales_technology == SalesTechnology.objects.first()
    assert set(company.product_categories.all()) == set(categories)
    assert company.profile_updated_at is not None


def test_unknown_dictionary_values_are_refused(manager, company):
    """D9: a profile value that is not in its dictionary is refused naming the field."""
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.company_update(
            actor=manager,
            company=company,
            application_sphere=999_999,
            product_categories=[999_999],
            source=999_999,
        )
    assert set(exc.value.error_dict) == {"application_sphere", "product_categories", "source"}
    assert snapshot() == before


def test_dates_in_the_future_are_refused(manager, company):
    """D10: the company's birthday is a past date."""
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.company_update(actor=manager, company=company, founded_on=date(2999, 1, 1))
    assert codes(exc, "founded_on") == ["future_date"]
    assert snapshot() == before
    company = services.company_update(actor=manager, company=company, founded_on=date(1991, 6, 20))
    assert company.founded_on == date(1991, 6, 20)


def test_company_cannot_recommend_itself(manager, company):
    """D1: the recommending client is another company."""
    other = company_factory(actor=manager)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.company_update(actor=manager, company=company, referred_by=company)
    assert codes(exc, "referred_by") == ["self_reference"]
    assert snapshot() == before
    company = services.company_update(actor=manager, company=company, referred_by=other.pk)
    assert company.referred_by == other


def test_head_of_sales_edits_dictionaries(head):
    """D9, R4: the head of sales adds dictionary values; a name already in the list, in any case, is
    refused."""
    item = services.dictionary_item_save(actor=head, kind="spheres", name="  Медицина ")
    assert item.name == "Медицина"
    count = ApplicationSphere.objects.count()
    for spelling in ("медицина", "МЕДИЦИНА", "Производство", "производство"):
        with pytest.raises(ValidationError) as exc:
            services.dictionary_item_save(actor=head, kind="spheres", name=spelling)
        assert codes(exc, "name") == ["duplicate"]
    assert ApplicationSphere.objects.count() == count
    renamed = services.dictionary_item_save(actor=head, kind="spheres", item=item, name="медицина")
    assert renamed.name == "медицина"


def test_others_cannot_edit_dictionaries(manager, senior_manager, finance):
    """R4: only the head of sales (or the administrator) edits the dictionaries."""
    count = ContactSource.objects.count()
    for actor in (manager, senior_manager, finance):
        with pytest.raises(AccessDenied):
            services.dictionary_item_save(actor=actor, kind="sources", name="Выставка «Металл-Экспо»")
    assert ContactSource.objects.count() == count


@pytest.mark.parametrize(
    ("full_name", "legal_form"),
    [
        ("Общество с ограниченной ответственностью «Ромашка»", LegalForm.OOO),
        ("ПАО Сбербанк", LegalForm.PAO),
        ("ФГУП «Почта России»", LegalForm.GUP),
        ("ПК «Рассвет»", LegalForm.OTHER),
        ("Acme LLC", LegalForm.OTHER),
        ("Ромашка", ""),
    ],
)
def test_legal_form_detected_from_the_name_is_one_of_the_list(manager, full_name, legal_form):
    """D1: the legal form read from the full name is always a value of the legal-form list, so the edit form
    and the API can show it."""
    company = services.company_create(actor=manager, full_name=full_name)
    company.refresh_from_db()
    assert company.legal_form == legal_form
    assert company.legal_form in [*LegalForm.values, ""]


def test_former_curator_holding_an_old_copy_cannot_edit(manager, other_manager, head):
    """R2, R4: once the head of sales gives the client to another manager, the former curator's edit is
    refused even if it is made through a copy of the company loaded before the change."""
    company = company_factory(actor=manager)
    services.company_change_curator(actor=head, company=company, curator=other_manager)
    assert company.curator == manager  # the former curator's copy predates the change
    before = snapshot()
    with pytest.raises(AccessDenied):
        services.company_update(actor=manager, company=company, notes="правка бывшего куратора")
    assert snapshot() == before
    assert Company.objects.get(pk=company.pk).notes == ""


def test_malformed_ids_and_dates_are_refused_naming_the_field(manager, company):
    """D1, D2, D9, D10: ids and dates that come as text (forms, imports, the API) are checked like the
    rest: a malformed one names its field instead of failing the whole request; nothing is written."""
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.company_update(
            actor=manager,
            company=company,
            source="abc",
            application_sphere=[1],
            referred_by="x",
            product_categories=["x"],
            founded_on="31.02.2020",
        )
    assert set(exc.value.error_dict) == {
        "source",
        "application_sphere",
        "referred_by",
        "product_categories",
        "founded_on",
    }
    assert codes(exc, "founded_on") == ["invalid_date"]
    with pytest.raises(ValidationError) as exc:
        contact_factory(actor=manager, company=company, reports_to="boss", birthday="2999-01-01")
    assert codes(exc, "reports_to") == ["invalid_choice"]
    assert codes(exc, "birthday") == ["future_date"]
    with pytest.raises(ValidationError) as exc:
        services.company_create(actor=manager, full_name="ООО «Ромашка»", curator="nobody")
    assert "curator" in exc.value.error_dict
    assert snapshot() == before


def test_dates_given_as_iso_text_are_stored_as_dates(manager, company):
    """D10: `1991-06-20` from a form or an import is the company's birthday."""
    company = services.company_update(actor=manager, company=company, founded_on="1991-06-20")
    company.refresh_from_db()
    assert company.founded_on == date(1991, 6, 20)
    person = contact_factory(actor=manager, company=company, birthday="1970-03-08")
    person.refresh_from_db()
    assert person.birthday == date(1970, 3, 8)


@pytest.mark.parametrize(
    ("full_name", "short_name"),
    [
        ("Публичное акционерное общество «Газпром»", "ПАО «Газпром»"),
        ("Общество с ограниченной ответственностью «Ромашка»", "ООО «Ромашка»"),
        ("«Ромашка», ООО", "ООО «Ромашка»"),
        ("ООО «Ромашка»", "ООО «Ромашка»"),
        ("Индивидуальный предприниматель Антонов Михаил Григорьевич", "ИП Антонов Михаил Григорьевич"),
        ("Банк ВТБ (ПАО)", "ПАО Банк ВТБ"),
        ("Ромашка", "Ромашка"),
    ],
)
def test_an_empty_short_name_is_made_from_the_full_name(manager, full_name, short_name):
    """D1: left empty, the short name is the full name with the legal form abbreviated and put first, the
    name keeping its own quotes; a short name that is given is kept as typed."""
    company = services.company_create(actor=manager, full_name=full_name)
    assert company.short_name == short_name
    given = services.company_create(actor=manager, full_name=f"{full_name} 2", short_name="Газпром")
    assert given.short_name == "Газпром"


def test_clearing_the_short_name_makes_it_again_from_the_full_name(manager):
    """D1: an edit that empties the short name gets the derived one, from the new full name if it changes."""
    company = services.company_create(actor=manager, full_name="ООО «Ромашка»", short_name="Ромашка")
    company = services.company_update(
        actor=manager,
        company=company,
        full_name="Акционерное общество «Ромашка-Юг»",
        short_name="",
    )
    assert company.short_name == "АО «Ромашка-Юг»"

"""The access policy (R3 openness, R4 roles, R2 curator) as one table: who may do what with a dossier."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from kurator.access.policy import PERMISSIONS, can, may_curate
from kurator.access.scoping import (
    access_bank_account_by_id,
    access_company_by_id,
    access_contact_by_id,
    curator_candidates,
    visible_bank_accounts,
    visible_companies,
    visible_contacts,
)
from kurator.access.tests.test_policy_access import COLUMNS as ACCESS_COLUMNS
from kurator.access.tests.test_policy_finance import COLUMNS as FINANCE_COLUMNS
from kurator.access.tests.test_policy_sales import COLUMNS as SALES_COLUMNS
from kurator.accounts.models import Role, User
from tests.factories import UserFactory, bank_account_factory, company_factory, contact_factory

VIEW = "companies.view_company"
ADD = "companies.add_company"
EDIT = "companies.change_company"
RECORDS = "companies.change_company_records"
CURATOR = "companies.change_curator"
DICTIONARIES = "companies.manage_dictionaries"
USERS = "accounts.view_user"

# Who the actor is, in relation to the company ``company`` (curated by ``curator``), and what they may do.
# Columns: view, add, edit, edit people/bank accounts, change curator, dictionaries, see colleagues.
# Further columns: merge companies, import clients, reports, and inquiries: view, add, work an unassigned one,
# review a possible match, settings (response standards, distribution rules).
TABLE: list[tuple[str, tuple[bool, ...]]] = [
    (
        "curator manager",
        (True, True, True, True, False, False, True, False, False, False, True, True, True, False, False),
    ),
    (
        "other manager",
        (True, True, False, False, False, False, True, False, False, False, True, True, True, False, False),
    ),
    (
        "curator senior manager",
        (True, True, True, True, False, False, True, False, False, False, True, True, True, False, False),
    ),
    (
        "other senior manager",
        (True, True, False, False, False, False, True, False, False, False, True, True, True, False, False),
    ),
    (
        "head of sales",
        (True, True, True, True, True, True, True, True, True, True, True, True, True, True, True),
    ),
    (
        "finance",
        (
            True,
            False,
            False,
            False,
            False,
            False,
            True,
            False,
            False,
            False,
            True,
            False,
            False,
            False,
            False,
        ),
    ),
    ("admin", (True, True, True, True, True, True, True, True, True, True, True, True, True, True, True)),
    (
        "inactive curator",
        (
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
        ),
    ),
    (
        "inactive head of sales",
        (
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
        ),
    ),
    (
        "anonymous",
        (
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
        ),
    ),
    (
        "nobody",
        (
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            False,
        ),
    ),
]
COLUMNS = (
    VIEW,
    ADD,
    EDIT,
    RECORDS,
    CURATOR,
    DICTIONARIES,
    USERS,
    "companies.merge_company",
    "companies.import_clients",
    "companies.view_reports",
    "inquiries.view_inquiry",
    "inquiries.add_inquiry",
    "inquiries.work_inquiry",
    "inquiries.review_match",
    "inquiries.manage_settings",
)
OBJECT_PERMISSIONS = {EDIT, RECORDS}


def make_user(**fields: Any) -> User:
    """A user of the department (the factory is untyped)."""
    return cast(User, UserFactory(**fields))


def _make(who: str) -> tuple[Any, Any]:
    """Return (actor, company) for a row of the table."""
    curator = make_user(username="curator", role=Role.MANAGER)
    if who == "curator manager":
        return curator, company_factory(actor=curator)
    if who == "curator senior manager":
        senior = make_user(username="senior", role=Role.SENIOR_MANAGER)
        return senior, company_factory(actor=senior)
    if who == "inactive curator":
        company = company_factory(actor=curator)
        curator.is_active = False
        curator.save()
        return curator, company
    company = company_factory(actor=curator)
    if who == "anonymous":
        return AnonymousUser(), company
    if who == "nobody":
        return None, company
    role, active = {
        "other manager": (Role.MANAGER, True),
        "other senior manager": (Role.SENIOR_MANAGER, True),
        "head of sales": (Role.HEAD_OF_SALES, True),
        "finance": (Role.FINANCE, True),
        "admin": (Role.ADMIN, True),
        "inactive head of sales": (Role.HEAD_OF_SALES, False),
    }[who]
    return make_user(username="actor", role=role, is_active=active), company


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_policy_table(who, expected):
    """R3, R4, R2: every role reads every dossier; only its curator (manager or senior manager), the head of
    sales and the administrator edit it; only the head of sales and the administrator change a curator or the
    dictionaries; finance reads and writes nothing; blocked users and visitors may do nothing."""
    actor, company = _make(who)
    answers = {
        permission: can(actor, permission, company if permission in OBJECT_PERMISSIONS else None)
        for permission in COLUMNS
    }
    assert answers == dict(zip(COLUMNS, expected, strict=True))


def test_table_covers_every_permission():
    """R4: a new permission must be added to the table above (or to the pipeline's table)."""
    tables = (SALES_COLUMNS, FINANCE_COLUMNS, ACCESS_COLUMNS)
    assert set(COLUMNS) | {perm for columns in tables for perm, _obj in columns} == PERMISSIONS


def test_unknown_permission_is_a_programming_error():
    """R4: a typo in a permission name fails loudly instead of silently refusing."""
    with pytest.raises(KeyError):
        can(None, "companies.edit_company")


def test_edit_without_a_company_is_refused_to_a_manager(manager, head):
    """R4: a manager's right to edit comes from being the curator of the given company only."""
    assert not can(manager, EDIT)
    assert can(head, EDIT)


def test_every_role_sees_every_company_and_its_records(users_by_role, manager, other_manager):
    """R3: one information environment: each role reads colleagues' clients, their people and accounts."""
    mine = company_factory(actor=manager)
    theirs = company_factory(actor=other_manager)
    person = contact_factory(actor=other_manager, company=theirs)
    account = bank_account_factory(actor=other_manager, company=theirs)
    for actor in users_by_role.values():
        assert set(visible_companies(actor)) == {mine, theirs}
        assert list(visible_contacts(actor)) == [person]
        assert list(visible_bank_accounts(actor)) == [account]
        assert access_company_by_id(actor, theirs.pk) == theirs
        assert access_contact_by_id(actor, person.pk) == person
        assert access_bank_account_by_id(actor, account.pk) == account


def test_outsiders_see_nothing(manager):
    """R4: visitors and blocked users get an empty list and 404 for a known id."""
    company = company_factory(actor=manager)
    person = contact_factory(actor=manager, company=company)
    account = bank_account_factory(actor=manager, company=company)
    blocked = make_user(username="blocked", role=Role.HEAD_OF_SALES, is_active=False)
    for actor in (AnonymousUser(), blocked, None):
        assert not visible_companies(actor).exists()
        assert not visible_contacts(actor).exists()
        assert not visible_bank_accounts(actor).exists()
        with pytest.raises(Http404):
            access_company_by_id(actor, company.pk)
        with pytest.raises(Http404):
            access_contact_by_id(actor, person.pk)
        with pytest.raises(Http404):
            access_bank_account_by_id(actor, account.pk)


@pytest.mark.parametrize("bad_id", ["abc", None, "", "1.5", 10**30])
def test_malformed_ids_are_not_found(manager, bad_id):
    """R4: a malformed id is a 404, never a server error."""
    with pytest.raises(Http404):
        access_company_by_id(manager, bad_id)
    with pytest.raises(Http404):
        access_contact_by_id(manager, bad_id)
    with pytest.raises(Http404):
        access_bank_account_by_id(manager, bad_id)


def test_curators_are_active_sales_staff_or_administrators(users_by_role, other_manager):
    """R2: clients are curated by managers, senior managers, the head of sales or an administrator; not by
    finance and not by a blocked user. The list offered in forms and the services' check agree."""
    blocked = make_user(username="blocked", role=Role.MANAGER, is_active=False)
    everyone = [*users_by_role.values(), other_manager, blocked]
    expected = {user for user in everyone if user.role != Role.FINANCE and user.is_active}
    assert set(curator_candidates()) == expected
    assert {user for user in everyone if may_curate(user)} == expected
    assert not may_curate(None)
    assert not may_curate(AnonymousUser())

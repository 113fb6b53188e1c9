"""D4/R4: entering, correcting and importing a client's financial statements."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kurator.core.errors import AccessDenied, EditConflict
from kurator.finance.models import FinancialStatement, StatementSource
from kurator.finance.services.solvency import statement_create, statement_import, statement_update
from kurator.finance.tests.factories_solvency import statement

D = Decimal


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [m for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}


# Entering by hand -----------------------------------------------------------------------------------------


def test_the_curator_enters_a_year_with_a_loss_and_negative_equity(manager, company):
    """D4: profit and equity may be negative; an empty figure is unknown; money typed the Russian way."""
    saved = statement_create(
        actor=manager,
        company=company,
        year="2024",
        revenue="12 500 000,50",
        net_profit="-350 000",
        equity="−1 000",
        total_assets="",
    )
    saved.refresh_from_db()
    assert (saved.year, saved.revenue, saved.net_profit, saved.equity) == (
        2024,
        D("12500000.50"),
        D("-350000.00"),
        D("-1000.00"),
    )
    assert saved.total_assets is None
    assert saved.source == StatementSource.MANUAL
    assert saved.entered_by == manager
    assert saved.history.count() == 1


@pytest.mark.parametrize("role", ["finance", "head", "admin_user"])
def test_finance_and_the_head_enter_statements(request, company, role):
    actor = request.getfixturevalue(role)
    assert statement_create(actor=actor, company=company, year=2024).pk


@pytest.mark.parametrize("role", ["other_manager", "senior_manager"])
def test_a_seller_who_does_not_curate_the_client_may_not(request, company, role):
    """R4: only the curator among the sellers."""
    with pytest.raises(AccessDenied):
        statement_create(actor=request.getfixturevalue(role), company=company, year=2024)
    assert not FinancialStatement.objects.exists()


def test_every_bad_field_is_named_and_nothing_is_written(manager, company):
    """D4: revenue, assets and liabilities not negative; a year in 1990–2100; parts not above their whole."""
    with pytest.raises(ValidationError) as caught:
        statement_create(
            actor=manager,
            company=company,
            year=1989,
            revenue="-1",
            total_assets="100",
            current_assets="200",
            liabilities="abc",
        )
    errors = _messages(caught.value)
    assert set(errors) == {"year", "revenue", "current_assets", "liabilities"}
    assert "between 1990 and 2100" in errors["year"][0]
    assert errors["revenue"] == ["The figure cannot be negative."]
    assert errors["current_assets"] == ["Current assets cannot exceed the total assets."]
    assert not FinancialStatement.objects.exists()


@pytest.mark.parametrize("year", [1990, 2100])
def test_the_year_bounds_are_included(manager, company, year):
    assert statement_create(actor=manager, company=company, year=year).year == year


@pytest.mark.parametrize("year", [1989, 2101, "", "20x4"])
def test_a_year_outside_the_range_or_not_a_number_is_refused(manager, company, year):
    with pytest.raises(ValidationError) as caught:
        statement_create(actor=manager, company=company, year=year)
    assert "year" in caught.value.error_dict


def test_a_year_is_entered_once_per_client(manager, company):
    """D4: unique per client, with a clear message; another client may have the same year."""
    statement_create(actor=manager, company=company, year=2024)
    with pytest.raises(ValidationError) as caught:
        statement_create(actor=manager, company=company, year=2024)
    assert _messages(caught.value)["year"] == [
        "The statements of 2024 are already entered for this client; edit that year instead."
    ]
    assert FinancialStatement.objects.count() == 1


def test_an_update_bumps_the_version_and_a_stale_one_is_a_conflict(manager, finance, company):
    saved = statement_create(actor=manager, company=company, year=2024, revenue="100")
    updated = statement_update(actor=finance, statement=saved, expected_version=1, revenue="200", equity="")
    assert (updated.revenue, updated.version) == (D("200.00"), 2)
    with pytest.raises(EditConflict):
        statement_update(actor=manager, statement=saved, expected_version=1, revenue="300")
    saved.refresh_from_db()
    assert saved.revenue == D("200.00")


def test_an_update_to_a_taken_year_is_refused(manager, company):
    statement_create(actor=manager, company=company, year=2023)
    later = statement_create(actor=manager, company=company, year=2024)
    with pytest.raises(ValidationError) as caught:
        statement_update(actor=manager, statement=later, year=2023)
    assert "2023" in _messages(caught.value)["year"][0]


def test_an_update_checks_parts_against_the_stored_whole(manager, company):
    saved = statement_create(actor=manager, company=company, year=2024, liabilities="100")
    with pytest.raises(ValidationError) as caught:
        statement_update(actor=manager, statement=saved, current_liabilities="101")
    assert "current_liabilities" in caught.value.error_dict


def test_another_manager_may_not_update(manager, other_manager, company):
    saved = statement_create(actor=manager, company=company, year=2024, revenue="100")
    with pytest.raises(AccessDenied):
        statement_update(actor=other_manager, statement=saved, revenue="1")


# Import ---------------------------------------------------------------------------------------------------

RUSSIAN = (
    "Год;Выручка;Чистая прибыль;Активы;Капитал;Обязательства;Оборотные активы;Краткосрочные обязательства\n"
    "2023;12 500 000,50;-350 000;8 000 000;2 400 000;5 600 000;5 000 000;3 200 000\n"
    "2022;10\u00a0000\u00a0000;(120 000);;-;;;\n"
)


def test_a_windows_1251_file_with_russian_headings_and_numbers(finance, company):
    """D4: cp1251, «;», «1 234 567,89», a non-breaking space, (negative), empty and dash are unknown."""
    result = statement_import(actor=finance, company=company, data=RUSSIAN.encode("cp1251"))
    assert (result.created, result.updated) == ([2023, 2022], [])
    first = FinancialStatement.objects.get(company=company, year=2023)
    assert (first.revenue, first.net_profit, first.current_liabilities) == (
        D("12500000.50"),
        D("-350000.00"),
        D("3200000.00"),
    )
    second = FinancialStatement.objects.get(company=company, year=2022)
    assert (second.revenue, second.net_profit, second.equity, second.total_assets) == (
        D("10000000.00"),
        D("-120000.00"),
        None,
        None,
    )
    assert second.source == StatementSource.IMPORT
    assert "added: 2023, 2022" in result.message


def test_a_utf8_file_with_english_headings_and_commas(finance, company):
    data = (
        "\ufeffyear,revenue,net_profit,total_assets,equity,liabilities,current_assets,current_liabilities\n"
        '2024,"1 234 567,89",1000.5,500,200,300,100,50\n'
    ).encode()
    result = statement_import(actor=finance, company=company, data=data)
    saved = result.statements[0]
    assert (saved.year, saved.revenue, saved.net_profit, saved.current_liabilities) == (
        2024,
        D("1234567.89"),
        D("1000.50"),
        D("50.00"),
    )


def test_an_existing_year_is_updated_and_reported(manager, company):
    """D4: a year already entered takes the file's figures (version up, source import); the result says so."""
    old = statement(company, 2023, revenue="1", equity="5")
    result = statement_import(
        actor=manager, company=company, data="Год;Выручка\n2023;100\n2024;200\n".encode()
    )
    assert (result.created, result.updated) == ([2024], [2023])
    old.refresh_from_db()
    assert (old.revenue, old.equity, old.version, old.source) == (D("100.00"), D("5.00"), 2, "import")
    assert "updated: 2023" in result.message


def test_a_bad_row_refuses_the_whole_file_naming_line_column_and_reason(finance, company):
    """D4: line numbers as the spreadsheet shows them (the heading is line 1); nothing is written, not even
    the good rows."""
    statement(company, 2021, revenue="7")
    data = (
        "Год;Выручка;Активы;Оборотные активы\n2023;100;10;5\n2022;сто;-5;\n1985;1;1;2\n2023;1;;\n"
    ).encode()
    with pytest.raises(ValidationError) as caught:
        statement_import(actor=finance, company=company, data=data)
    messages = _messages(caught.value)["file"]
    assert "Line 3, column «Выручка»: Enter the amount as a number, e.g. 1 234 567,89." in messages
    assert "Line 3, column «Активы»: The figure cannot be negative." in messages
    assert "Line 4, column «Год»: The year must be between 1990 and 2100." in messages
    assert "Line 4, column «Оборотные активы»: Current assets cannot exceed the total assets." in messages
    assert "Line 5, column «Год»: The year 2023 is already on line 2 of the file." in messages
    assert messages[-1].startswith("Nothing was imported")
    assert list(FinancialStatement.objects.values_list("year", "revenue")) == [(2021, D("7.00"))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Год;Прибыль до налогов\n2023;1\n", "Column 2 «Прибыль до налогов» is not a statement figure"),
        ("Выручка;Активы\n1;2\n", "The file has no «Год» (year) column."),
        ("Год;Выручка;revenue\n2023;1;2\n", "Columns 2 and 3 both give «revenue»."),
        ("Год;Выручка\n", "The file has only the column headings and no years."),
        ("", "The file is empty."),
    ],
)
def test_a_file_that_is_not_a_statements_table_is_refused(finance, company, text, expected):
    with pytest.raises(ValidationError) as caught:
        statement_import(actor=finance, company=company, data=text.encode())
    assert any(expected in m for m in _messages(caught.value)["file"])
    assert not FinancialStatement.objects.exists()


def test_a_number_column_is_ignored_and_a_value_without_a_heading_is_refused(finance, company):
    statement_import(actor=finance, company=company, data="№;Год;Выручка\n1;2023;5\n".encode())
    assert FinancialStatement.objects.get().revenue == D("5.00")
    with pytest.raises(ValidationError) as caught:
        statement_import(actor=finance, company=company, data="Год;Выручка\n2024;5;7\n".encode())
    assert _messages(caught.value)["file"] == [
        "Column 3 has values but no heading; name it or remove the values."
    ]


def test_another_manager_may_not_import(other_manager, company):
    with pytest.raises(AccessDenied):
        statement_import(actor=other_manager, company=company, data="Год\n2023\n".encode())
    assert not FinancialStatement.objects.exists()

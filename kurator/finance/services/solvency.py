"""Every write to the client's financial statements (D4), confidential (R4).

Statements are entered by hand (:func:`statement_create`, :func:`statement_update`) or imported from a
CSV/XLSX file (:func:`statement_import`). Who may write: ``finance.change_financial_statement`` with the
company as the object — finance, the head of sales, the administrator and the client's curator.

The figures are roubles. Revenue, assets, liabilities, current assets and current liabilities are not
negative; net profit (a loss) and equity may be. An empty figure is unknown (the ratios that need it are not
computed). One statement per client and year (1990–2100). Parts cannot exceed their whole (current assets
≤ assets, current liabilities ≤ liabilities) when both are known.

The import (:func:`statement_import`):

- the file is read by the client import's reader (:func:`kurator.inquiries.importing.read_table`): UTF-8
  (with or without BOM) or Windows-1251, ``;``, ``,`` or tab separated, or an XLSX workbook; the first
  non-empty row is the heading;
- columns are recognised by Russian or English headings (``Год``/``year``, ``Выручка``/``revenue``,
  ``Чистая прибыль``/``net_profit``, ``Активы``/``total_assets``, ``Капитал``/``equity``,
  ``Обязательства``/``liabilities``, ``Оборотные активы``/``current_assets``,
  ``Краткосрочные обязательства``/``current_liabilities`` and a few synonyms); a column with an unknown
  heading is refused rather than silently skipped (a misspelt heading must not lose a figure); ``№``
  columns are ignored; a missing figure column leaves that figure unknown (or, for a year already entered,
  as it was);
- numbers are typed the Russian way (``1 234 567,89``, non-breaking spaces, ``−``) or plainly
  (``1234567.89``); a number in parentheses ``(1 234)`` is negative, as in Russian reports; an empty cell or
  a dash is unknown;
- any bad row refuses the whole file: the answer (``{"file": [...]}``) lists every bad cell as «Line N,
  column «X»: reason» (line numbers as a spreadsheet shows them, the heading is line 1) and nothing is
  written;
- **a year the client already has is updated** with the file's figures (its version goes up, the source
  becomes "imported") and the result says which years were added and which updated; the same year twice in
  one file is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kurator.access.decorators import ensure
from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.core.cleaning import clean_money, parse_money
from kurator.core.errors import EditConflict, FieldErrors
from kurator.finance.models import FinancialStatement, StatementSource
from kurator.inquiries.importing import ImportFileError, normalize_heading, read_table

__all__ = [
    "FIGURES",
    "IMPORT_MAX_BYTES",
    "STATEMENT_FIELDS",
    "ImportResult",
    "statement_create",
    "statement_import",
    "statement_update",
]

PERMISSION = "finance.change_financial_statement"
YEAR_MIN, YEAR_MAX = 1990, 2100
# The figures of a statement; the first group may be negative.
SIGNED_FIGURES = ("net_profit", "equity")
UNSIGNED_FIGURES = ("revenue", "total_assets", "liabilities", "current_assets", "current_liabilities")
FIGURES = (
    "revenue",
    "net_profit",
    "total_assets",
    "equity",
    "liabilities",
    "current_assets",
    "current_liabilities",
)
STATEMENT_FIELDS = ("year", *FIGURES)
# A statements file is a few lines; anything larger is not one.
IMPORT_MAX_BYTES = 1024 * 1024
# Bad cells named in one refusal; the rest are counted.
MAX_REPORTED_ERRORS = 20
HISTORY_REASON_LENGTH = 100


# Cleaning -------------------------------------------------------------------------------------------------


def _clean_year(errors: FieldErrors, value: Any) -> int | None:
    if value is None or str(value).strip() == "":
        errors.add("year", _("Enter the year."), code="required")
        return None
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        errors.add("year", _("Enter the year as four digits, e.g. 2024."), code="invalid")
        return None
    if not YEAR_MIN <= year <= YEAR_MAX:
        errors.add(
            "year",
            _("The year must be between %(min)s and %(max)s.") % {"min": YEAR_MIN, "max": YEAR_MAX},
            code="out_of_range",
        )
        return None
    return year


def _clean_figure(errors: FieldErrors, name: str, value: Any) -> Decimal | None:
    if name in SIGNED_FIGURES:
        return clean_money(errors, name, value, allow_negative=True)
    before = len(errors.errors.get(name, []))
    amount = clean_money(errors, name, value, allow_zero=True)
    if len(errors.errors.get(name, [])) > before and errors.errors[name][-1].code == "min_value":
        # clean_money's words are about payments; a balance figure is "not negative".
        errors.errors[name][-1] = ValidationError(_("The figure cannot be negative."), code="min_value")
    return amount


def _clean_figures(errors: FieldErrors, fields: dict[str, Any]) -> dict[str, Decimal | None]:
    cleaned = {name: _clean_figure(errors, name, fields[name]) for name in FIGURES if name in fields}
    return cleaned


def _check_consistency(errors: FieldErrors, figures: dict[str, Decimal | None]) -> None:
    """Parts cannot exceed their whole: current assets are part of the assets, current liabilities of the
    liabilities."""
    pairs = (
        ("current_assets", "total_assets", _("Current assets cannot exceed the total assets.")),
        ("current_liabilities", "liabilities", _("Current liabilities cannot exceed the total liabilities.")),
    )
    for part, whole, message in pairs:
        part_value, whole_value = figures.get(part), figures.get(whole)
        if part_value is not None and whole_value is not None and part_value > whole_value:
            errors.add(part, message, code="exceeds_total")


def _year_taken(company: Company, year: int, exclude_pk: int | None = None) -> bool:
    qs = FinancialStatement.objects.filter(company=company, year=year)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _year_taken_message(year: int) -> str:
    return gettext(
        "The statements of %(year)s are already entered for this client; edit that year instead."
    ) % {"year": year}


def _unknown(fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")


def _save(statement: FinancialStatement, actor: User, reason: str = "") -> None:
    statement._history_user = actor  # type: ignore[attr-defined]
    statement._change_reason = (reason or "")[:HISTORY_REASON_LENGTH] or None  # type: ignore[attr-defined]
    statement.save()


# Entering by hand -----------------------------------------------------------------------------------------


@transaction.atomic
def statement_create(
    *, actor: User, company: Company, source: str = StatementSource.MANUAL, **fields: Any
) -> FinancialStatement:
    """D4: the client's figures of one year. ``fields``: ``year`` and any of :data:`FIGURES` (empty is
    unknown). Refuses a year already entered, a year outside 1990–2100 and negative revenue, assets or
    liabilities."""
    _unknown(fields, STATEMENT_FIELDS)
    ensure(actor, PERMISSION, company)
    errors = FieldErrors()
    year = _clean_year(errors, fields.get("year"))
    figures = _clean_figures(errors, fields)
    _check_consistency(errors, figures)
    if year is not None and _year_taken(company, year):
        errors.add("year", _year_taken_message(year), code="unique")
    errors.raise_if_any()
    assert year is not None  # a missing year is an error above
    statement = FinancialStatement(
        company=company,
        year=year,
        source=source if source in StatementSource.values else StatementSource.MANUAL,
        entered_by=actor,
        **figures,
    )
    _save(statement, actor)
    return statement


@transaction.atomic
def statement_update(
    *,
    actor: User,
    statement: FinancialStatement,
    expected_version: int | None = None,
    **fields: Any,
) -> FinancialStatement:
    """Correct a year's figures (or the year itself). ``expected_version`` guards against overwriting a
    colleague's edit (EditConflict, 409). Fields not given stay as they are; an empty one becomes unknown."""
    _unknown(fields, STATEMENT_FIELDS)
    ensure(actor, PERMISSION, statement.company)
    statement = FinancialStatement.objects.select_for_update().select_related("company").get(pk=statement.pk)
    ensure(actor, PERMISSION, statement.company)
    if expected_version is not None and statement.version != expected_version:
        raise EditConflict
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    if "year" in fields:
        year = _clean_year(errors, fields["year"])
        if year is not None and year != statement.year and _year_taken(statement.company, year, statement.pk):
            errors.add("year", _year_taken_message(year), code="unique")
        cleaned["year"] = year
    cleaned.update(_clean_figures(errors, fields))
    merged = {name: cleaned.get(name, getattr(statement, name)) for name in FIGURES}
    _check_consistency(errors, merged)
    errors.raise_if_any()
    changed = [name for name, value in cleaned.items() if getattr(statement, name) != value]
    if not changed:
        return statement
    for name in changed:
        setattr(statement, name, cleaned[name])
    statement.version += 1
    _save(statement, actor)
    return statement


# Import ---------------------------------------------------------------------------------------------------

# Normalised headings (kurator.inquiries.importing.normalize_heading) naming each field.
HEADINGS: dict[str, tuple[str, ...]] = {
    "year": ("год", "year", "отчетный год", "период", "fiscal year"),
    "revenue": ("выручка", "revenue", "выручка от реализации", "выручка нетто", "sales"),
    "net_profit": (
        "чистая прибыль",
        "net profit",
        "чистая прибыль убыток",
        "прибыль убыток",
        "net income",
    ),
    "total_assets": (
        "активы",
        "total assets",
        "активы всего",
        "всего активов",
        "валюта баланса",
        "баланс",
        "assets",
    ),
    "equity": ("капитал", "equity", "собственный капитал", "капитал и резервы", "капитал и резервы итого"),
    "liabilities": ("обязательства", "liabilities", "обязательства всего", "всего обязательств"),
    "current_assets": ("оборотные активы", "current assets", "итого оборотные активы"),
    "current_liabilities": (
        "краткосрочные обязательства",
        "current liabilities",
        "итого краткосрочные обязательства",
    ),
}
_HEADING_TO_FIELD = {heading: code for code, headings in HEADINGS.items() for heading in headings}
# Row-number columns carry nothing.
_IGNORED = frozenset({"n", "no", "nn", "n п п", "п п", "#"})
# A dash in a report means "no figure".
_DASHES = frozenset({"-", "—", "–", "−"})
_PARENTHESES_RE = re.compile(r"^\((.*)\)$")


@dataclass
class ImportResult:
    """What an import did: the years added and the years whose figures were replaced."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    statements: list[FinancialStatement] = field(default_factory=list)

    @property
    def message(self) -> str:
        parts = []
        if self.created:
            parts.append(gettext("added: %(years)s") % {"years": ", ".join(map(str, self.created))})
        if self.updated:
            parts.append(gettext("updated: %(years)s") % {"years": ", ".join(map(str, self.updated))})
        return gettext("Statements imported (%(what)s).") % {"what": "; ".join(parts)}


def _file_error(message: Any) -> ValidationError:
    return ValidationError({"file": [ValidationError(message, code="invalid")]})


def _cell_value(text: str) -> str:
    """A figure as typed, with a dash for none and parentheses for a negative amount."""
    text = text.strip()
    if text in _DASHES:
        return ""
    bracketed = _PARENTHESES_RE.match(text)
    if bracketed:
        inner = bracketed.group(1).strip()
        return "" if not inner else f"-{inner}"
    return text


def _read(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    if len(data) > IMPORT_MAX_BYTES:
        raise _file_error(_("The file is too large for a statements file (at most 1 MB)."))
    try:
        table = read_table(data, filename)
    except ImportFileError as exc:
        if exc.code == "header_only":
            raise _file_error(_("The file has only the column headings and no years.")) from None
        if exc.code == "encoding":
            raise _file_error(
                _("The file is not UTF-8 or Windows-1251; save it again as “CSV UTF-8” or “CSV”.")
            ) from None
        raise exc.as_validation_error("file") from None
    return table.headers, table.rows


def _map_columns(headers: list[str]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, heading in enumerate(headers):
        key = normalize_heading(heading)
        if key in _IGNORED:
            continue
        code = _HEADING_TO_FIELD.get(key)
        if code is None and heading == gettext("Column %(number)s") % {"number": index + 1}:
            # The reader names a column that has values but no heading.
            problems.append(
                gettext("Column %(number)s has values but no heading; name it or remove the values.")
                % {"number": index + 1}
            )
            continue
        if code is None:
            problems.append(
                gettext(
                    "Column %(number)s «%(heading)s» is not a statement figure; name it one of: year, "
                    "revenue, net_profit, total_assets, equity, liabilities, current_assets, "
                    "current_liabilities (or Год, Выручка, Чистая прибыль, Активы, Капитал, Обязательства, "
                    "Оборотные активы, Краткосрочные обязательства)."
                )
                % {"number": index + 1, "heading": heading}
            )
            continue
        if code in seen:
            problems.append(
                gettext("Columns %(first)s and %(second)s both give «%(heading)s».")
                % {"first": seen[code] + 1, "second": index + 1, "heading": heading}
            )
            continue
        seen[code] = index
        mapping[index] = code
    if "year" not in seen:
        problems.append(gettext("The file has no «Год» (year) column."))
    if problems:
        raise ValidationError({"file": [ValidationError(p, code="columns") for p in problems]})
    return mapping


def _label(heading: str) -> str:
    return heading.strip() or "?"


@transaction.atomic
def statement_import(*, actor: User, company: Company, data: bytes, filename: str = "") -> ImportResult:
    """D4: import a client's statements by year from a CSV or XLSX file (see the module docstring). All or
    nothing: a bad cell refuses the whole file naming its line and column; a year already entered is
    updated and reported as such."""
    ensure(actor, PERMISSION, company)
    headers, rows = _read(data, filename)
    mapping = _map_columns(headers)
    existing = {s.year: s for s in FinancialStatement.objects.select_for_update().filter(company=company)}

    problems: list[str] = []
    parsed: list[tuple[int, dict[str, Any]]] = []
    years_in_file: dict[int, int] = {}
    for line, cells in rows:
        errors = FieldErrors()
        raw = {code: (cells[i] if i < len(cells) else "") for i, code in mapping.items()}
        year = _clean_year(errors, raw["year"])
        figures = {}
        for code in FIGURES:
            if code not in raw:
                continue
            text = _cell_value(raw[code])
            if text and parse_money(text) is None:
                errors.add(code, _("Enter the amount as a number, e.g. 1 234 567,89."), code="invalid")
                continue
            figures[code] = _clean_figure(errors, code, text)
        current = existing.get(year) if year is not None else None
        _check_consistency(
            errors,
            {name: figures[name] if name in figures else getattr(current, name, None) for name in FIGURES},
        )
        if year is not None and year in years_in_file:
            errors.add(
                "year",
                gettext("The year %(year)s is already on line %(line)s of the file.")
                % {"year": year, "line": years_in_file[year]},
                code="duplicate",
            )
        if year is not None:
            years_in_file.setdefault(year, line)
        column_of = {code: i for i, code in mapping.items()}
        for name, items in errors.errors.items():
            heading = _label(headers[column_of[name]])
            for item in items:
                problems.append(
                    gettext("Line %(line)s, column «%(column)s»: %(reason)s")
                    % {"line": line, "column": heading, "reason": " ".join(item.messages)}
                )
        if year is not None and not errors.errors:
            parsed.append((line, {"year": year, **figures}))
    if problems:
        shown = problems[:MAX_REPORTED_ERRORS]
        if len(problems) > MAX_REPORTED_ERRORS:
            shown.append(gettext("… and %(count)s more.") % {"count": len(problems) - MAX_REPORTED_ERRORS})
        shown.append(gettext("Nothing was imported: correct the file and upload it again."))
        raise ValidationError({"file": [ValidationError(p, code="invalid_row") for p in shown]})

    result = ImportResult()
    for _line, values in parsed:
        year = values["year"]
        statement = existing.get(year)
        if statement is None:
            statement = FinancialStatement(
                company=company, source=StatementSource.IMPORT, entered_by=actor, **values
            )
            _save(statement, actor, gettext("Imported"))
            result.created.append(year)
        else:
            for name in FIGURES:
                if name in values:
                    setattr(statement, name, values[name])
            statement.source = StatementSource.IMPORT
            statement.entered_by = actor
            statement.version += 1
            _save(statement, actor, gettext("Imported"))
            result.updated.append(year)
        result.statements.append(statement)
    return result

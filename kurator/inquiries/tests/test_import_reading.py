"""S1: reading client lists as offices keep them — encodings, delimiters, XLSX, broken files — and recognising
their columns. No database: these are the import's pure steps."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kurator.inquiries.importing import (
    IGNORE,
    ImportFileError,
    auto_mapping,
    escape_cell,
    field_for_heading,
    read_table,
    resolve_mapping,
)

FILES = Path(__file__).parent / "files"
HEADER = ["Наименование", "ИНН", "Телефон"]
ROW = ["ООО «Ромашка»", "4226018159", "8 (495) 123-45-67"]


@pytest.fixture(autouse=True)
def english():
    # Messages are asserted by their English msgids, whatever the Russian catalogue says.
    with translation.override("en"):
        yield


def csv_bytes(rows: list[list[str]], *, delimiter: str = ";", encoding: str = "cp1251") -> bytes:
    return "\r\n".join(delimiter.join(row) for row in rows).encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_windows_1251_with_semicolons_and_russian_headers():
    """S1: the list as Russian Excel saves it — Windows-1251, `;`, a «№» column — is read and mapped."""
    table = read_table((FILES / "clients_cp1251.csv").read_bytes(), "clients.csv")
    assert (table.kind, table.encoding, table.delimiter) == ("csv", "cp1251", ";")
    assert table.headers[:3] == ["№", "Наименование", "ИНН"]
    assert table.rows[0][0] == 2  # the heading is row 1, as a spreadsheet numbers it
    assert table.rows[0][1][1] == 'ООО "Ромашка"'
    assert table.rows[0][1][2] == "4226 018 159"
    mapping = auto_mapping(table.headers)
    assert [mapping[i] for i in range(len(table.headers))] == [
        IGNORE,
        "full_name",
        "inn",
        "kpp",
        "ogrn",
        "phones",
        "emails",
        "legal_address",
        "city",
        "contact_name",
        "contact_position",
        "source",
        "notes",
    ]


def test_utf8_with_bom_and_commas():
    """S1: UTF-8 with a byte-order mark and `,` as the delimiter; a quoted field keeps its commas."""
    data = (
        "\ufeff"
        + 'Company,INN,Phone,Address\r\n"Romashka, LLC",4226018159,+7 495 123-45-67,"Moscow, Lenina 1"\r\n'
    )
    table = read_table(data.encode("utf-8"), "clients.csv")
    assert (table.encoding, table.delimiter) == ("utf-8-sig", ",")
    assert table.headers == ["Company", "INN", "Phone", "Address"]
    assert table.rows == [(2, ["Romashka, LLC", "4226018159", "+7 495 123-45-67", "Moscow, Lenina 1"])]


def test_utf8_without_bom_and_tabs():
    """S1: UTF-8 without BOM, tab-delimited (a copy from a spreadsheet saved as text)."""
    table = read_table(csv_bytes([HEADER, ROW], delimiter="\t", encoding="utf-8"))
    assert (table.encoding, table.delimiter) == ("utf-8", "\t")
    assert table.rows == [(2, ROW)]


def test_semicolons_win_over_commas_inside_addresses():
    """S1: commas inside addresses do not fool the delimiter detection of a `;` file."""
    rows = [["Название", "Адрес", "ИНН"]] + [
        [f"Фирма {n}", f"г. Москва, ул. Ленина, д. {n}, кв. {n}", "4226018159"] for n in range(5)
    ]
    assert read_table(csv_bytes(rows)).delimiter == ";"


def test_a_single_column_list_is_read():
    """S1: a list of names only (no delimiter at all) is a one-column table."""
    table = read_table("Наименование\nООО Ромашка\nООО Василёк\n".encode())
    assert table.headers == ["Наименование"]
    assert len(table.rows) == 2


def test_blank_lines_and_trailing_delimiters_are_skipped_but_rows_keep_their_numbers():
    """S1: blank lines are not rows; trailing `;;;` columns with no heading are dropped; numbers stay."""
    data = "Наименование;ИНН;;\r\n\r\nООО Ромашка;4226018159;;\r\n;;;\r\nООО Василёк;7160913900;;\r\n"
    table = read_table(data.encode("cp1251"))
    assert table.headers == ["Наименование", "ИНН"]
    assert [number for number, _cells in table.rows] == [3, 5]


def test_xlsx_first_sheet_numbers_and_dates_become_text_and_lost_leading_zeros_come_back():
    """S1: XLSX via openpyxl: numbers typed as numbers (INN, phone) come back as their digits, dates as
    dd.mm.yyyy; an INN that lost its leading zero as a number is padded (checked later by the validator)."""
    data = xlsx_bytes(
        [
            ["Наименование", "ИНН", "Телефон", "Дата"],
            ["ООО Ромашка", 4226018159, 84951234567, datetime(2020, 5, 17)],
            ["ООО Ноль", 7707083893.0, None, None],
        ]
    )
    table = read_table(data, "clients.xlsx")
    assert (table.kind, table.encoding, table.delimiter) == ("xlsx", "", "")
    assert table.rows[0] == (2, ["ООО Ромашка", "4226018159", "84951234567", "17.05.2020"])
    assert table.rows[1] == (3, ["ООО Ноль", "7707083893"])


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"", "empty", "empty"),
        (b"  \r\n\r\n ", "empty", "empty"),
        (b"\xef\xbb\xbf", "empty", "empty"),
        ("Наименование;ИНН\r\n".encode("cp1251"), "header_only", "only the column headings"),
        (
            'Наименование;ИНН\r\n"ООО Ромашка;4226018159\r\nООО Василёк;7160913900\r\n'.encode(),
            "truncated",
            "cut short",
        ),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not_tabular", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_tabular", "image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "not_tabular", "image"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "not_tabular", "web page"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "xls", "XLSX or CSV"),
        (b"\xff\xfeH\x00e\x00", "encoding", "not UTF-8 or Windows-1251"),
        (b"Name;INN\r\n\x98\x98\x98;1\r\n", "encoding", "not UTF-8 or Windows-1251"),
        (b"Name;INN\r\nabc\x01\x02;1\r\n", "encoding", "not UTF-8 or Windows-1251"),
        (b"abc\x00def\x00", "not_tabular", "binary data"),
    ],
    ids=[
        "empty",
        "blank",
        "bom-only",
        "header-only",
        "quote-never-closes",
        "pdf",
        "png",
        "jpeg",
        "html",
        "xls",
        "utf16",
        "undecodable",
        "control-characters",
        "binary",
    ],
)
def test_files_that_are_not_client_lists_get_a_clear_message(data, code, words):
    """S1: empty, header-only, truncated, non-tabular and undecodable files are refused with a message that
    names the reason."""
    with pytest.raises(ImportFileError) as caught:
        read_table(data, "clients.csv")
    assert caught.value.code == code
    assert words in caught.value.text


def test_a_zip_that_is_not_a_workbook_and_a_damaged_workbook():
    """S1: an XLSX renamed from another ZIP, or cut short, is named as such."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ImportFileError) as caught:
        read_table(out.getvalue(), "clients.xlsx")
    assert caught.value.code == "not_tabular"
    damaged = xlsx_bytes([HEADER, ROW])[:300]
    with pytest.raises(ImportFileError) as caught:
        read_table(damaged, "clients.xlsx")
    assert caught.value.code == "xlsx_damaged"


def test_oversize_files_and_too_many_rows(settings):
    """S1: the size limit (KURATOR_IMPORT_MAX_BYTES) and the row limit (KURATOR_IMPORT_MAX_ROWS)."""
    settings.KURATOR_IMPORT_MAX_BYTES = 1000
    with pytest.raises(ImportFileError) as caught:
        read_table(csv_bytes([HEADER] + [ROW] * 100))
    assert caught.value.code == "too_large"
    assert "limit is 1000" in caught.value.text
    settings.KURATOR_IMPORT_MAX_BYTES = 10**6
    settings.KURATOR_IMPORT_MAX_ROWS = 10
    with pytest.raises(ImportFileError) as caught:
        read_table(csv_bytes([HEADER] + [ROW] * 11))
    assert caught.value.code == "too_many_rows"
    assert len(read_table(csv_bytes([HEADER] + [ROW] * 10)).rows) == 10


@pytest.mark.parametrize(
    ("heading", "field"),
    [
        ("Наименование", "full_name"),
        ("НАЗВАНИЕ", "full_name"),
        ("Компания", "full_name"),
        ("Организация", "full_name"),
        ("Клиент", "full_name"),
        ("Company", "full_name"),
        ("name", "full_name"),
        ("Краткое наименование", "short_name"),
        ("ИНН", "inn"),
        ("инн организации", "inn"),
        ("INN", "inn"),
        ("КПП", "kpp"),
        ("ИНН/КПП", "inn_kpp"),
        ("ОГРН", "ogrn"),
        ("ОГРНИП", "ogrn"),
        ("Телефон", "phones"),
        ("Тел.", "phones"),
        ("Телефоны", "phones"),
        ("Телефон 2", "phones"),
        ("Phone", "phones"),
        ("E-mail", "emails"),
        ("Email", "emails"),
        ("Эл. почта", "emails"),
        ("Почта", "emails"),
        ("Адрес", "actual_address"),
        ("Юридический адрес", "legal_address"),
        ("Фактический адрес", "actual_address"),
        ("Город", "city"),
        ("Сайт", "website"),
        ("Контактное лицо", "contact_name"),
        ("ФИО", "contact_name"),
        ("Контакт", "contact_name"),
        ("Должность", "contact_position"),
        ("Телефон контактного лица", "contact_phones"),
        ("Источник", "source"),
        ("Примечание", "notes"),
        ("Комментарий", "notes"),
        ("Статус", "status"),
        ("БИК", "bik"),
        ("Р/с", "settlement_account"),
        ("Расчётный счёт", "settlement_account"),
        ("К/с", "correspondent_account"),
        ("Банк", "bank_name"),
        ("№", IGNORE),
        ("№ п/п", IGNORE),
        ("Любимый цвет", IGNORE),
    ],
)
def test_headings_are_recognised_in_russian_and_english(heading, field):
    """S1: headings map to fields whatever their case, ё, spaces and punctuation."""
    assert field_for_heading(heading) == field


def test_a_single_valued_field_goes_to_its_first_column_and_phones_to_every_phone_column():
    """S1: two «Наименование» columns: the second is ignored; two phone columns both feed the phones."""
    mapping = auto_mapping(["Наименование", "Телефон", "Наименование", "Телефон 2"])
    assert mapping == {0: "full_name", 1: "phones", 2: IGNORE, 3: "phones"}


def test_the_user_corrects_the_mapping_by_index_or_by_heading():
    """S1: the user's choice wins; a field moved to another column leaves its old one."""
    headers = ["Наименование", "Клиент", "Телефон", "Прочее"]
    mapping = resolve_mapping(headers, {"1": "full_name", "Прочее": "notes", 2: "ignore"})
    assert mapping == {0: IGNORE, 1: "full_name", 2: IGNORE, 3: "notes"}


@pytest.mark.parametrize(
    ("requested", "words"),
    [
        ({"9": "inn"}, "no column 9"),
        ({"0": "favourite_colour"}, "not a field"),
        ({"0": "inn", "1": "inn"}, "several columns"),
    ],
)
def test_a_wrong_mapping_is_refused_with_a_reason(requested, words):
    """S1: a mapping to a column the file does not have, an unknown field, or one field twice."""
    with pytest.raises(ValidationError) as caught:
        resolve_mapping(["Наименование", "Клиент", "Телефон"], requested)
    assert words in " ".join(caught.value.message_dict["mapping"])


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ("+7 495 123-45-67", "'+7 495 123-45-67"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("ООО Ромашка", "ООО Ромашка"),
        (42, 42),
        (None, None),
    ],
)
def test_cells_that_would_run_as_formulas_are_escaped(value, escaped):
    """S1: cells starting with =, +, - or @ are written as text."""
    assert escape_cell(value) == escaped


def test_the_phone_shortcut_for_russian_spellings_agrees_with_the_full_parser():
    """S1: the import validates phones with normalize_phone, whose shortcut for Russian spellings (taken for
    speed) gives exactly what phonenumbers' full parser gives, or leaves the number to it."""
    import random

    import phonenumbers

    from kurator.core.requisites import _russian_e164

    def full(text: str) -> str | None:
        try:
            number = phonenumbers.parse(text, "RU")
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(number) or number.extension:
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    rng = random.Random(20261127)
    shortcuts = 0
    for _ in range(20000):
        digits = "".join(str(rng.randrange(10)) for _ in range(rng.choice((9, 10, 10, 11, 12))))
        spelling = rng.choice(
            (
                "+" + digits,
                "+7 " + digits,
                "8" + digits,
                "7" + digits,
                digits,
                f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}",
            )
        )
        fast = _russian_e164(spelling)
        if fast is not None:
            shortcuts += 1
            assert fast == full(spelling), spelling
    assert shortcuts > 1000

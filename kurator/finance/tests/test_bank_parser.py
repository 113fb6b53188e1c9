"""D6: reading the 1C exchange file (1CClientBankExchange) — encodings, incoming payments, malformed files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from kurator.finance.onec import StatementError, parse_statement

DATA = Path(__file__).parent / "data"
STATEMENT = DATA / "statement_two_matched_one_queued.txt"
OUR_ACCOUNT = "40702810680320589945"


def statement_text() -> str:
    return STATEMENT.read_bytes().decode("cp1251")


def test_reads_the_windows_1251_statement_with_its_header_and_documents():
    """D6: the header, our account and the four documents of the fixture."""
    statement = parse_statement(STATEMENT.read_bytes())
    assert statement.encoding == "cp1251"
    assert statement.version == "1.03"
    assert statement.accounts == [OUR_ACCOUNT]
    assert (statement.date_from, statement.date_to) == (date(2026, 11, 23), date(2026, 11, 24))
    assert [d.number for d in statement.documents] == ["512", "77", "3091", "845"]
    first = statement.documents[0]
    assert first.kind == "Платежное поручение"
    assert first.amount == Decimal("150000.00")
    assert first.payer_inn == "7384916513"
    assert first.payer_kpp == "738401002"
    assert first.payer_name == "ООО «Альфа-Снаб»"
    assert first.payer_account == "40702810747134109357"
    assert first.receiver_account == OUR_ACCOUNT
    assert first.purpose.startswith("Оплата по счету № 123 от 02.11.2026")
    assert first.paid_on == date(2026, 11, 23)


def test_only_payments_into_our_account_are_incoming():
    """D6: the outgoing rent payment (from our account, ДатаСписано) is not a client payment."""
    statement = parse_statement(STATEMENT.read_bytes())
    assert [d.number for d in statement.incoming] == ["512", "77", "3091"]
    outgoing = statement.documents[3]
    assert outgoing.debited_on == date(2026, 11, 24)
    assert not statement.is_incoming(outgoing)


def test_without_an_account_in_the_header_the_received_date_tells_incoming():
    """D6: ДатаПоступило marks a payment received when the statement names no account of ours."""
    text = statement_text().replace(f"РасчСчет={OUR_ACCOUNT}\r\n", "")
    statement = parse_statement(text.encode("cp1251"))
    assert statement.accounts == []
    assert [d.number for d in statement.incoming] == ["512", "77", "3091"]


def test_reads_a_dos_statement_in_cp866():
    """D6: Кодировка=DOS means cp866."""
    text = statement_text().replace("Кодировка=Windows", "Кодировка=DOS")
    text = text.replace("«", '"').replace("»", '"')
    statement = parse_statement(text.encode("cp866"))
    assert statement.encoding == "cp866"
    assert statement.incoming[1].payer_name == 'ООО "Бета Трейд"'


def test_reads_a_utf8_statement_with_a_bom():
    """D6: some banks export UTF-8 with a byte-order mark."""
    statement = parse_statement(b"\xef\xbb\xbf" + statement_text().encode("utf-8"))
    assert statement.encoding == "utf-8"
    assert statement.incoming[0].payer_name == "ООО «Альфа-Снаб»"


def test_payer_name_is_taken_from_the_combined_field_without_the_inn():
    """D6: «Плательщик=ИНН … name» alone (no Плательщик1) still gives the name."""
    text = statement_text().replace("Плательщик1=ООО «Альфа-Снаб»\r\n", "")
    statement = parse_statement(text.encode("cp1251"))
    assert statement.documents[0].payer_name == "ООО «Альфа-Снаб»"


@pytest.mark.parametrize(
    ("name", "line", "words"),
    [
        ("malformed_not_1c.txt", 1, "1CClientBankExchange"),
        ("malformed_unclosed_document.txt", 50, "КонецДокумента"),
        ("malformed_bad_date.txt", 23, "31.11.2026"),
        ("malformed_bad_amount.txt", 53, "48 500 руб."),
        ("malformed_missing_number.txt", 21, "Номер"),
        ("malformed_cut_short.txt", 78, "КонецФайла"),
    ],
)
def test_a_malformed_file_is_refused_with_the_line_and_the_reason(name, line, words):
    """D6: the refusal names the line and what is wrong there."""
    with pytest.raises(StatementError) as caught:
        parse_statement((DATA / name).read_bytes())
    assert caught.value.line == line
    assert caught.value.text.startswith(f"Line {line}: ")
    assert words in caught.value.text


def test_an_empty_file_is_refused():
    with pytest.raises(StatementError) as caught:
        parse_statement(b"  \r\n")
    assert caught.value.code == "empty"


def test_a_zero_amount_is_refused():
    text = statement_text().replace("Сумма=150000.00", "Сумма=0.00")
    with pytest.raises(StatementError) as caught:
        parse_statement(text.encode("cp1251"))
    assert caught.value.code == "invalid_amount"
    assert caught.value.line == 24


def test_a_line_that_is_not_key_value_is_refused():
    text = statement_text().replace("Очередность=5\r\n", "Очередность=5\r\nмусор\r\n", 1)
    with pytest.raises(StatementError) as caught:
        parse_statement(text.encode("cp1251"))
    assert caught.value.code == "invalid_line"
    assert "мусор" in caught.value.text


def test_a_file_over_the_limit_is_refused(settings):
    """D6: KURATOR_BANK_STATEMENT_MAX_BYTES bounds the file."""
    settings.KURATOR_BANK_STATEMENT_MAX_BYTES = 1000
    with pytest.raises(StatementError) as caught:
        parse_statement(STATEMENT.read_bytes())
    assert caught.value.code == "too_large"

"""Bank statements in the 1C exchange format (``1CClientBankExchange``), the text file Russian banks and 1C
export (D6).

The file is lines of ``Key=Value``: a header (``ВерсияФормата``, ``Кодировка=Windows|DOS``, ``Отправитель``,
``ДатаНачала``, ``ДатаКонца``, one ``РасчСчет`` per account), balance sections
``СекцияРасчСчет`` … ``КонецРасчСчет``, one section per document ``СекцияДокумент=Платежное поручение`` …
``КонецДокумента`` (``Номер``, ``Дата``, ``Сумма``, ``ПлательщикСчет``, ``ПлательщикИНН``, ``Плательщик1``,
``ПолучательСчет``, ``НазначениеПлатежа``, ``ДатаПоступило``/``ДатаСписано``, …) and ``КонецФайла``.

:func:`parse_statement` reads the bytes (Windows-1251 unless the header says ``Кодировка=DOS`` — cp866 —,
UTF-8 with a BOM accepted too) into a :class:`Statement`, or raises :class:`StatementError` naming the line
and the reason. It writes nothing; :mod:`kurator.finance.services.bank` imports what it returns.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kurator.core.cleaning import MAX_MONEY
from kurator.inquiries.importing import ImportFileError

__all__ = ["BankDocument", "Statement", "StatementError", "check_size", "max_bytes", "parse_statement"]

SIGNATURE = "1CClientBankExchange"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# A document's keys every bank fills; without them a payment cannot be recorded.
REQUIRED_KEYS = ("Номер", "Дата", "Сумма")
DATE_KEYS = ("Дата", "ДатаПоступило", "ДатаСписано")
HEADER_DATE_KEYS = ("ДатаНачала", "ДатаКонца", "ДатаСоздания")
_DATE_RE = re.compile(r"^\d{2}\.\d{2}\.\d{4}$")
_AMOUNT_RE = re.compile(r"^\d+(?:[.,]\d{1,2})?$")
# The header key naming the encoding, as bytes in each encoding a statement may come in.
_ENCODING_KEY = {enc: "Кодировка=".encode(enc) for enc in ("cp1251", "cp866")}


def max_bytes() -> int:
    return int(getattr(settings, "KURATOR_BANK_STATEMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


class StatementError(ImportFileError):
    """The file is not a readable 1C statement; ``text`` says why in the user's language, with the line."""

    def __init__(
        self, message: Any, code: str, line: int | None = None, params: dict[str, Any] | None = None
    ) -> None:
        self.line = line
        super().__init__(message, code=code, params=params)

    @property
    def reason(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)

    @property
    def text(self) -> str:
        if self.line is None:
            return self.reason
        return gettext("Line %(line)s: %(reason)s") % {"line": self.line, "reason": self.reason}

    def __str__(self) -> str:
        return self.text


def check_size(size: int) -> None:
    if size > max_bytes():
        raise StatementError(
            _("The file is %(size)s; a bank statement may be at most %(limit)s. Export a shorter period."),
            code="too_large",
            params={"size": filesizeformat(size), "limit": filesizeformat(max_bytes())},
        )


@dataclass
class BankDocument:
    """One payment document of the statement, as the bank wrote it."""

    line: int  # where its section begins
    kind: str  # Платежное поручение, Банковский ордер, …
    number: str
    date: dt.date
    amount: Decimal
    payer_account: str = ""
    payer_name: str = ""
    payer_inn: str = ""
    payer_kpp: str = ""
    receiver_account: str = ""
    receiver_name: str = ""
    receiver_inn: str = ""
    purpose: str = ""
    received_on: dt.date | None = None
    debited_on: dt.date | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def paid_on(self) -> dt.date:
        """When the money reached us: ``ДатаПоступило``, else the document's date."""
        return self.received_on or self.date


@dataclass
class Statement:
    encoding: str
    version: str = ""
    sender: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    accounts: list[str] = field(default_factory=list)
    documents: list[BankDocument] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)

    @property
    def account(self) -> str:
        """The statement's (first) account of ours."""
        return self.accounts[0] if self.accounts else ""

    def is_incoming(self, document: BankDocument) -> bool:
        """Money that came to us: paid into one of our accounts, or marked received (``ДатаПоступило``)
        when the statement names no account. A transfer from one of our own accounts is not a client's."""
        ours = set(self.accounts)
        if document.payer_account and document.payer_account in ours:
            return False
        if document.receiver_account and ours:
            return document.receiver_account in ours
        return document.received_on is not None

    @property
    def incoming(self) -> list[BankDocument]:
        return [document for document in self.documents if self.is_incoming(document)]


# Decoding -------------------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 with a BOM; cp866 when the header (written in cp866) says DOS;
    otherwise Windows-1251 — the format's default — unless the bytes are valid UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            raise _encoding_error() from None
    head = data[:4096]
    if _ENCODING_KEY["cp866"] in head:
        return data.decode("cp866"), "cp866"
    if any(byte >= 0x80 for byte in head):
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("cp1251"), "cp1251"
    except UnicodeDecodeError:
        raise _encoding_error() from None


def _encoding_error() -> StatementError:
    return StatementError(
        _("The file is not in Windows-1251, DOS (cp866) or UTF-8, the encodings of a 1C statement."),
        code="encoding",
    )


# Parsing --------------------------------------------------------------------------------------------------


def _parse_date(value: str, key: str, line: int) -> dt.date:
    try:
        if not _DATE_RE.match(value):
            raise ValueError
        return dt.datetime.strptime(value, "%d.%m.%Y").date()
    except ValueError:
        raise StatementError(
            _("%(key)s is «%(value)s», not a date as dd.mm.yyyy."),
            code="invalid_date",
            line=line,
            params={"key": key, "value": value[:40]},
        ) from None


def _parse_amount(value: str, line: int) -> Decimal:
    text = value.replace(" ", "").replace("\u00a0", "")
    try:
        if not _AMOUNT_RE.match(text):
            raise InvalidOperation
        amount = Decimal(text.replace(",", ".")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise StatementError(
            _("Сумма is «%(value)s», not an amount like 1234.56."),
            code="invalid_amount",
            line=line,
            params={"value": value[:40]},
        ) from None
    if amount <= 0 or amount > MAX_MONEY:
        raise StatementError(
            _("Сумма is «%(value)s»: a payment is more than zero and less than 10¹⁴ roubles."),
            code="invalid_amount",
            line=line,
            params={"value": value[:40]},
        )
    return amount


def _digits(value: str, limit: int) -> str:
    return "".join(ch for ch in value if ch.isdigit())[:limit]


def _document(kind: str, start: int, values: dict[str, tuple[int, str]], end: int) -> BankDocument:
    for key in REQUIRED_KEYS:
        if not values.get(key, (0, ""))[1]:
            raise StatementError(
                _("the document that begins here has no %(key)s."),
                code="missing_key",
                line=start,
                params={"key": key},
            )
    dates: dict[str, dt.date | None] = {}
    for key in DATE_KEYS:
        line, value = values.get(key, (start, ""))
        dates[key] = _parse_date(value, key, line) if value else None
    amount_line, amount_text = values["Сумма"]

    def text(key: str) -> str:
        return " ".join(values.get(key, (0, ""))[1].split())

    payer_name = text("Плательщик1") or text("Плательщик")
    # «Плательщик» alone is often «ИНН 7700000000 ООО "Ромашка"»: keep the name.
    payer_name = re.sub(r"^ИНН\s*\d+\s*", "", payer_name)
    document_date = dates["Дата"]
    assert document_date is not None
    return BankDocument(
        line=start,
        kind=kind,
        number=text("Номер")[:100],
        date=document_date,
        amount=_parse_amount(amount_text, amount_line),
        payer_account=_digits(text("ПлательщикСчет") or text("ПлательщикРасчСчет"), 20),
        payer_name=payer_name[:500],
        payer_inn=_digits(text("ПлательщикИНН"), 12),
        payer_kpp=_digits(text("ПлательщикКПП"), 9),
        receiver_account=_digits(text("ПолучательСчет") or text("ПолучательРасчСчет"), 20),
        receiver_name=(text("Получатель1") or text("Получатель"))[:500],
        receiver_inn=_digits(text("ПолучательИНН"), 12),
        purpose=text("НазначениеПлатежа") or text("НазначениеПлатежа1"),
        received_on=dates["ДатаПоступило"],
        debited_on=dates["ДатаСписано"],
        fields={key: value for key, (_line, value) in values.items()},
    )


def parse_statement(data: bytes) -> Statement:
    """The statement in ``data``; :class:`StatementError` (with the line) when the file is malformed."""
    check_size(len(data))
    if not data.strip() or data.strip() == b"\xef\xbb\xbf":
        raise StatementError(_("The file is empty."), code="empty", line=1)
    text, encoding = _decode(data)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    if lines[first].strip().lstrip("\ufeff") != SIGNATURE:
        raise StatementError(
            _("the file does not begin with 1CClientBankExchange: it is not a 1C bank statement."),
            code="not_1c",
            line=first + 1,
        )
    statement = Statement(encoding=encoding)
    section: str | None = None  # None (the header), "account" or "document"
    section_line = 0
    kind = ""
    values: dict[str, tuple[int, str]] = {}
    ended = False
    for index in range(first + 1, len(lines)):
        number = index + 1
        line = lines[index].strip()
        if not line:
            continue
        key, has_value, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if key == "КонецФайла":
            if section is not None:
                break  # reported below as an unclosed section
            ended = True
            break
        if key == "СекцияДокумент":
            if section is not None:
                break
            section, section_line, kind, values = "document", number, value, {}
            continue
        if key == "СекцияРасчСчет":
            if section is not None:
                break
            section, section_line, values = "account", number, {}
            continue
        if key == "КонецДокумента":
            if section != "document":
                raise StatementError(
                    _("КонецДокумента without a СекцияДокумент before it."), code="unexpected", line=number
                )
            statement.documents.append(_document(kind, section_line, values, number))
            section = None
            continue
        if key == "КонецРасчСчет":
            if section != "account":
                raise StatementError(
                    _("КонецРасчСчет without a СекцияРасчСчет before it."), code="unexpected", line=number
                )
            account = _digits(values.get("РасчСчет", (0, ""))[1], 20)
            if account and account not in statement.accounts:
                statement.accounts.append(account)
            section = None
            continue
        if not has_value or not key:
            raise StatementError(
                _("«%(text)s» is not a Key=Value line of a 1C statement."),
                code="invalid_line",
                line=number,
                params={"text": line[:60]},
            )
        if section is None:
            _header_value(statement, key, value, number)
        else:
            values[key] = (number, value)
    if section == "document":
        raise StatementError(
            _("the document that begins here (СекцияДокумент) has no КонецДокумента."),
            code="unclosed_document",
            line=section_line,
        )
    if section == "account":
        raise StatementError(
            _("the account section that begins here (СекцияРасчСчет) has no КонецРасчСчет."),
            code="unclosed_section",
            line=section_line,
        )
    if not ended:
        raise StatementError(
            _("the file ends without КонецФайла: it may have been cut short."),
            code="truncated",
            line=len(lines),
        )
    return statement


def _header_value(statement: Statement, key: str, value: str, line: int) -> None:
    statement.header.setdefault(key, value)
    if key in HEADER_DATE_KEYS and value:
        parsed = _parse_date(value, key, line)
        if key == "ДатаНачала":
            statement.date_from = parsed
        elif key == "ДатаКонца":
            statement.date_to = parsed
    elif key == "РасчСчет":
        account = _digits(value, 20)
        if account and account not in statement.accounts:
            statement.accounts.append(account)
    elif key == "ВерсияФормата":
        statement.version = value
    elif key == "Отправитель":
        statement.sender = value

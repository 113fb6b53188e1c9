"""The primary client-base import (S1): client lists as Russian offices keep them, into the dossier.

The steps, each usable alone (the UI, the API and ``manage.py import_clients`` share them):

1. :func:`read_table` turns the bytes of a CSV (UTF-8 with or without BOM, or Windows-1251; ``;``, ``,`` or
   tab) or an XLSX workbook into headings and rows of text, or raises :class:`ImportFileError` with a message
   naming what is wrong with the file (empty, cut short, not a table, unknown encoding, too large, …).
2. :func:`auto_mapping` recognises the columns from Russian and English headings; :func:`resolve_mapping`
   applies the user's corrections.
3. :func:`analyse` sorts every row into ``new``, ``duplicate`` (of a company in the base or of an earlier row
   of the file, with the matcher's reasons) or ``refused`` (each bad field with the services' message). The
   rows are validated by the dossier services' own cleaning functions, and duplicates are found by
   :class:`BulkMatcher`, which loads what the matcher (kurator.inquiries.matching) compares once, so that
   100,000 rows need no query per row, and words its reasons with the matcher's sentences.
4. :func:`import_apply` writes the new rows in one transaction with bulk inserts, history records included,
   computing the derived columns exactly as the services do; a failure leaves the base as it was.
5. :func:`export_xlsx` gives the file back with a status, the company and the reasons for every row.
"""

from __future__ import annotations

import copy
import csv
import gzip
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from kurator.access.decorators import ensure
from kurator.access.policy import may_curate
from kurator.accounts.models import User
from kurator.companies import services
from kurator.companies.dossier import build_search_text, build_sort_name, checklist_status, completeness_of
from kurator.companies.models import BankAccount, Company, CompanyStatus, Contact, ContactSource, LegalForm
from kurator.core.errors import FieldErrors
from kurator.core.requisites import clean_number, validate_inn
from kurator.core.text import fold
from kurator.inquiries import matching
from kurator.inquiries.models import ImportBatch, ImportStatus, PublicMailDomain

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_ROWS = 100_000
# More columns than any client list has; a sheet claiming thousands is cut here rather than read.
MAX_COLUMNS = 200
BATCH_SIZE = 1000
# Reasons kept on a new row about companies that share its phone or e-mail but have another INN.
MAX_NOTES = 3
# A name shared by hundreds of firms («Вектор») is compared with the first ones only: one is enough to decide.
MAX_NAMESAKES = 20

NEW = "new"
DUPLICATE = "duplicate"
REFUSED = "refused"
STATUSES = (NEW, DUPLICATE, REFUSED)
STATUS_LABELS: dict[str, Any] = {
    NEW: pgettext_lazy("import row", "New"),
    DUPLICATE: pgettext_lazy("import row", "Duplicate"),
    REFUSED: pgettext_lazy("import row", "Refused"),
}


def max_bytes() -> int:
    return int(getattr(settings, "KURATOR_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_rows() -> int:
    return int(getattr(settings, "KURATOR_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


class ImportFileError(Exception):
    """The file cannot be read as a client list; ``message`` says why in the user's language."""

    def __init__(self, message: StrOrPromise, code: str, params: dict[str, Any] | None = None) -> None:
        self.code = code
        self.params = params or {}
        self.message = message
        super().__init__(self.text)

    @property
    def text(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)

    def as_validation_error(self, field_name: str = "file") -> ValidationError:
        return ValidationError(
            {field_name: [ValidationError(self.message, code=self.code, params=self.params or None)]}
        )


# 1. Reading ------------------------------------------------------------------------------------------------


ENCODING_LABELS = {"utf-8-sig": "UTF-8 (BOM)", "utf-8": "UTF-8", "cp1251": "Windows-1251", "": ""}
DELIMITER_LABELS: dict[str, Any] = {
    ";": _("semicolon (;)"),
    ",": _("comma (,)"),
    "\t": _("tab"),
    "": "",
}
DELIMITERS = ";,\t"


@dataclass
class Table:
    """A client list as text: headings and rows, each row with its number as a spreadsheet shows it
    (the heading is row 1)."""

    headers: list[str]
    rows: list[tuple[int, list[str]]]
    kind: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ""

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)

    @property
    def delimiter_label(self) -> str:
        return str(DELIMITER_LABELS.get(self.delimiter, self.delimiter))


_BINARY_SIGNATURES: tuple[tuple[bytes, Any], ...] = (
    (b"%PDF", _("a PDF document")),
    (b"\x89PNG", _("an image")),
    (b"\xff\xd8\xff", _("an image")),
    (b"GIF8", _("an image")),
    (b"BM", _("an image")),
    (b"RIFF", _("an image")),
    (b"\x1f\x8b", _("a compressed archive")),
    (b"Rar!", _("a compressed archive")),
    (b"7z\xbc\xaf", _("a compressed archive")),
    (b"{\\rtf", _("a text document (RTF)")),
)
_HTML_RE = re.compile(rb"^\s*<(!doctype html|html|\?xml)", re.IGNORECASE)
# Characters of Windows-1251 that no Russian text uses; their presence means the bytes are something else.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_size(size: int) -> None:
    if size > max_bytes():
        raise ImportFileError(
            _("The file is %(size)s; the limit is %(limit)s. Split the list into several files."),
            code="too_large",
            params={"size": filesizeformat(size), "limit": filesizeformat(max_bytes())},
        )


def _not_a_table(kind: Any) -> ImportFileError:
    return ImportFileError(
        _("The file is not a table: it looks like %(kind)s. Upload the list as CSV or XLSX."),
        code="not_tabular",
        params={"kind": kind},
    )


def read_table(data: bytes, filename: str = "") -> Table:
    """Headings and rows of a CSV or XLSX file; :class:`ImportFileError` says why it cannot be read."""
    check_size(len(data))
    if not data.strip() or data.strip() in (b"\xef\xbb\xbf",):
        raise ImportFileError(_("The file is empty."), code="empty")
    if data.startswith(b"PK\x03\x04"):
        table = _read_xlsx(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _("Old Excel workbooks (.xls) cannot be read: save the list as XLSX or CSV."), code="xls"
        )
    else:
        for signature, kind in _BINARY_SIGNATURES:
            if data.startswith(signature) and (signature != b"BM" or b"\x00" in data[:64]):
                raise _not_a_table(kind)
        if _HTML_RE.match(data[:512]):
            raise _not_a_table(_("a web page (HTML)"))
        table = _read_csv(data)
    if not table.headers:
        raise ImportFileError(_("The file is empty."), code="empty")
    if not table.rows:
        raise ImportFileError(
            _("The file has only the column headings and no rows of clients."), code="header_only"
        )
    return table


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _encoding_error()
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise _encoding_error() from None
    if b"\x00" in data[:8192]:
        raise _not_a_table(_("binary data"))
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1251"), "cp1251"
        except UnicodeDecodeError:
            raise _encoding_error() from None
    if _CONTROL_RE.search(text[:65536]):
        raise _encoding_error()
    return text, encoding


def _encoding_error() -> ImportFileError:
    return ImportFileError(
        _(
            "The file is not UTF-8 or Windows-1251, the encodings a client list can be read in. Save it "
            "again as “CSV UTF-8” or “CSV (semicolon delimited)”."
        ),
        code="encoding",
    )


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == char and not quoted:
            count += 1
    return count


def _detect_delimiter(text: str) -> str:
    lines = [line for line in text[:65536].splitlines() if line.strip()]
    header = lines[0] if lines else ""
    counts = {d: _count_outside_quotes(header, d) for d in DELIMITERS}
    most = max(DELIMITERS, key=lambda d: counts[d])
    sample = "\n".join(lines[:30])
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    # The sniffer weighs consistency over rows, which commas inside addresses can fool; the heading has no
    # addresses, so a delimiter absent from it is overruled.
    if sniffed and sniffed in DELIMITERS and (counts[sniffed] or not counts[most]):
        return sniffed
    return most if counts[most] else ";"


def _truncated(row: int) -> ImportFileError:
    return ImportFileError(
        _(
            'The file is cut short: a quote (") opened in row %(row)s never closes. Check that the file '
            "was saved completely, or remove the stray quote."
        ),
        code="truncated",
        params={"row": row},
    )


def _parse_csv(text: str, delimiter: str, *, strict: bool) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    records: list[list[str]] = []
    limit = max_rows() + 1  # the heading
    try:
        for record in reader:
            records.append(record)
            if len(records) > limit + 1:
                break
    except csv.Error as exc:
        if "end of data" in str(exc) or "field larger than field limit" in str(exc):
            raise _truncated(len(records) + 1) from None
        raise
    return records


def _read_csv(data: bytes) -> Table:
    text, encoding = _decode(data)
    delimiter = _detect_delimiter(text)
    # A field may legitimately hold a long note, but never more than the whole file.
    csv.field_size_limit(max(131072, max_bytes()))
    try:
        records = _parse_csv(text, delimiter, strict=True)
    except csv.Error:
        # Stray quotes inside a field (`"Ромашка" ООО;…`) are common in hand-made lists: read them leniently,
        # and still refuse a quote that swallows the rest of the file.
        records = _parse_csv(text, delimiter, strict=False)
        if records and any("\n" in cell for cell in records[-1]) and len(records[-1]) < len(records[0]):
            raise _truncated(len(records)) from None
    return _table_from_records(records, kind="csv", encoding=encoding, delimiter=delimiter)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # A number typed into a cell (an INN, a phone) comes back as a float: give back its digits.
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.strftime("%d.%m.%Y")
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value).strip()


def _read_xlsx(data: bytes) -> Table:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise ImportFileError(
            _("The XLSX file is damaged or is not an Excel workbook."), code="xlsx_damaged"
        ) from None
    if "xl/workbook.xml" not in names:
        if "content.xml" in names:
            raise ImportFileError(
                _("OpenDocument spreadsheets cannot be read: save the list as XLSX or CSV."), code="ods"
            )
        raise _not_a_table(_("a ZIP archive"))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a broken workbook
        raise ImportFileError(
            _("The XLSX file is damaged or is not an Excel workbook."), code="xlsx_damaged"
        ) from None
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("The file is empty."), code="empty")
        sheet = workbook.worksheets[0]
        # The dimensions a generator writes may be wrong; reading to the real end costs nothing more.
        sheet.reset_dimensions()
        records: list[list[str]] = []
        limit = max_rows() + 2
        for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            records.append([_cell_text(v) for v in values])
            if len(records) > limit:
                break
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError(
            _("The XLSX file is damaged or is not an Excel workbook."), code="xlsx_damaged"
        ) from None
    finally:
        workbook.close()
    return _table_from_records(records, kind="xlsx")


def _table_from_records(
    records: list[list[str]], *, kind: str, encoding: str = "", delimiter: str = ""
) -> Table:
    rows: list[tuple[int, list[str]]] = []
    headers: list[str] | None = None
    for number, record in enumerate(records, start=1):
        cells = [cell.strip() for cell in record[:MAX_COLUMNS]]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if headers is None:
            headers = cells
            continue
        rows.append((number, cells))
    if headers is None:
        return Table([], [], kind, encoding, delimiter)
    if len(rows) > max_rows():
        raise ImportFileError(
            _("The file has more than %(limit)s rows; split it into several files."),
            code="too_many_rows",
            params={"limit": max_rows()},
        )
    width = max([len(headers), *(len(cells) for _n, cells in rows)])
    # Columns with neither a heading nor a value are the trailing separators some programs write.
    used = [
        i
        for i in range(width)
        if (i < len(headers) and headers[i]) or any(i < len(c) and c[i] for _n, c in rows)
    ]
    width = (used[-1] + 1) if used else 0
    headers = [
        (headers[i] if i < len(headers) and headers[i] else gettext("Column %(number)s") % {"number": i + 1})
        for i in range(width)
    ]
    return Table(headers, rows, kind, encoding, delimiter)


# 2. Column mapping -----------------------------------------------------------------------------------------

IGNORE = "ignore"


@dataclass(frozen=True)
class ImportField:
    code: str
    label: Any
    # Normalised headings (see normalize_heading) that name the field, separated by "|".
    headings: str
    multiple: bool = False  # several columns may feed it (a second phone, another note)

    @property
    def synonyms(self) -> list[str]:
        return self.headings.split("|")


FIELDS: tuple[ImportField, ...] = (
    ImportField(
        "full_name",
        _("Company name"),
        "наименование|название|компания|организация|клиент|контрагент|фирма|полное наименование"
        "|наименование организации|наименование компании|название компании|название организации"
        "|наименование клиента|name|company|company name|organization|organisation|client|customer",
    ),
    ImportField(
        "short_name",
        _("Short name"),
        "краткое наименование|сокращенное наименование|краткое название|short name",
    ),
    ImportField("inn", _("INN"), "инн|inn|инн организации|инн клиента|tax id"),
    ImportField("kpp", _("KPP"), "кпп|kpp"),
    ImportField("inn_kpp", _("INN/KPP in one column"), "инн кпп|inn kpp"),
    ImportField("ogrn", _("OGRN/OGRNIP"), "огрн|огрнип|огрн огрнип|ogrn|ogrnip"),
    ImportField(
        "phones",
        _("Company phones"),
        "телефон|тел|телефоны|контактный телефон|рабочий телефон|телефон организации|телефон компании"
        "|мобильный|мобильный телефон|phone|phones|tel|telephone",
        multiple=True,
    ),
    ImportField(
        "emails",
        _("Company e-mails"),
        "e mail|email|эл почта|почта|электронная почта|эл адрес|емейл|емайл|имейл|mail|e mail address",
        multiple=True,
    ),
    ImportField("fax", _("Fax"), "факс|fax"),
    ImportField(
        "legal_address",
        _("Legal address"),
        "юридический адрес|юр адрес|адрес юридический|legal address|registered address",
    ),
    ImportField(
        "actual_address",
        _("Actual address"),
        "фактический адрес|адрес|факт адрес|почтовый адрес|адрес офиса|address|actual address|office address",
    ),
    ImportField("city", _("City"), "город|населенный пункт|city|town"),
    ImportField("website", _("Website"), "сайт|веб сайт|вебсайт|интернет сайт|website|web site|site|www|url"),
    ImportField(
        "contact_name",
        _("Contact person"),
        "контактное лицо|фио|контакт|фио контактного лица|контактное лицо фио|представитель|contact"
        "|contact person|contact name",
    ),
    ImportField(
        "contact_position",
        _("Contact person's position"),
        "должность|должность контактного лица|position|job title",
    ),
    ImportField(
        "contact_phones",
        _("Contact person's phones"),
        "телефон контактного лица|телефон контакта|мобильный контактного лица|тел контактного лица"
        "|contact phone",
        multiple=True,
    ),
    ImportField(
        "contact_emails",
        _("Contact person's e-mails"),
        "email контактного лица|e mail контактного лица|почта контактного лица|эл почта контактного лица"
        "|contact email|contact e mail",
        multiple=True,
    ),
    ImportField(
        "source",
        _("Contact source"),
        "источник|источник контакта|источник клиента|откуда|source|lead source",
    ),
    ImportField(
        "notes",
        _("Notes"),
        "примечание|примечания|комментарий|комментарии|заметки|notes|note|comment|comments",
        multiple=True,
    ),
    ImportField("status", _("Status"), "статус|статус клиента|status"),
    ImportField("bik", _("BIK"), "бик|бик банка|bik"),
    ImportField(
        "settlement_account",
        _("Settlement account"),
        "р с|расчетный счет|р счет|рс|settlement account|account",
    ),
    ImportField(
        "correspondent_account",
        _("Correspondent account"),
        "к с|корр счет|корреспондентский счет|кс|correspondent account",
    ),
    ImportField("bank_name", _("Bank"), "банк|наименование банка|название банка|bank|bank name"),
)
FIELDS_BY_CODE = {f.code: f for f in FIELDS}
# Row-number columns («№», «N п/п») carry nothing to import.
_IGNORED_HEADINGS = frozenset({"", "n", "no", "nn", "n п п", "п п", "номер", "#"})
_HEADING_RE = re.compile(r"[^\w]+|_+")


def normalize_heading(heading: str) -> str:
    """``«Эл. почта»`` → ``эл почта``; ``Р/с`` → ``р с``; ``E-mail`` → ``e mail``; ``№`` → ``n``."""
    return " ".join(_HEADING_RE.sub(" ", fold(heading).replace("№", " n ")).split())


_SYNONYMS: dict[str, str] = {s: f.code for f in FIELDS for s in f.synonyms}


def field_for_heading(heading: str) -> str:
    """The import field a column heading names, or :data:`IGNORE`."""
    key = normalize_heading(heading)
    if key in _IGNORED_HEADINGS:
        return IGNORE
    if key in _SYNONYMS:
        return _SYNONYMS[key]
    # «Телефон 2», «ИНН организации (10 цифр)»: the longest synonym the heading starts with.
    best = max((s for s in _SYNONYMS if key.startswith(s + " ")), key=len, default="")
    return _SYNONYMS[best] if best else IGNORE


def auto_mapping(headers: list[str]) -> dict[int, str]:
    """Column index → field (or :data:`IGNORE`); a single-valued field goes to its first column."""
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, heading in enumerate(headers):
        code = field_for_heading(heading)
        if code != IGNORE and not FIELDS_BY_CODE[code].multiple and code in taken:
            code = IGNORE
        taken.add(code)
        mapping[index] = code
    return mapping


def _mapping_error(message: StrOrPromise, code: str, **params: Any) -> ValidationError:
    return ValidationError({"mapping": [ValidationError(message, code=code, params=params or None)]})


def resolve_mapping(headers: list[str], requested: dict[Any, Any] | None = None) -> dict[int, str]:
    """The automatic mapping with the user's corrections: ``{column index or heading: field or "ignore"}``.

    A field the user gives a column leaves the column the automatic mapping had chosen for it."""
    mapping = auto_mapping(headers)
    if not requested:
        return mapping
    if not isinstance(requested, dict):
        raise _mapping_error(_("The column mapping must map columns to fields."), "mapping_invalid")
    folded_headers = {fold(h): i for i, h in reversed(list(enumerate(headers)))}
    chosen: dict[int, str] = {}
    for key, value in requested.items():
        index: int | None
        if isinstance(key, int) or (isinstance(key, str) and key.strip().isdigit()):
            index = int(key)
        else:
            index = folded_headers.get(fold(str(key)))
        if index is None or not 0 <= index < len(headers):
            raise _mapping_error(_("The file has no column %(column)s."), "mapping_column", column=key)
        code = str(value or IGNORE)
        if code != IGNORE and code not in FIELDS_BY_CODE:
            raise _mapping_error(
                _("“%(field)s” is not a field the import knows."), "mapping_field", field=code
            )
        chosen[index] = code
    for index, code in chosen.items():
        if code != IGNORE and not FIELDS_BY_CODE[code].multiple:
            for other, other_code in mapping.items():
                if other_code == code and other not in chosen:
                    mapping[other] = IGNORE
        mapping[index] = code
    counts: dict[str, list[int]] = {}
    for index, code in mapping.items():
        counts.setdefault(code, []).append(index)
    for code, indexes in counts.items():
        if code != IGNORE and not FIELDS_BY_CODE[code].multiple and len(indexes) > 1:
            raise _mapping_error(
                _("“%(field)s” is chosen for several columns: %(columns)s. Choose one."),
                "mapping_twice",
                field=FIELDS_BY_CODE[code].label,
                columns=", ".join(f"«{headers[i]}»" for i in indexes),
            )
    return mapping


def mapping_problems(mapping: dict[int, str]) -> list[str]:
    """What stops the rows from being read with this mapping (the company name must have a column)."""
    if "full_name" not in mapping.values():
        return [gettext("No column is recognised as the company name: choose it in the column mapping.")]
    return []


def mapping_to_json(mapping: dict[int, str]) -> dict[str, str]:
    return {str(i): code for i, code in sorted(mapping.items())}


def mapping_from_json(data: dict[str, Any] | None) -> dict[int, str]:
    return {int(i): str(code) for i, code in (data or {}).items()}


# 3. Duplicates ---------------------------------------------------------------------------------------------

# Reasons about an earlier row of the same file; the keys of the base's reasons are the matcher's.
FILE_MESSAGES: dict[str, Any] = {
    "file_inn": _("Same INN %(inn)s as row %(row)s of this file"),
    "file_inn_kpp": _("Same INN %(inn)s and KPP %(kpp)s as row %(row)s of this file"),
    "file_inn_branch": _("Same INN %(inn)s as row %(row)s of this file, another KPP (%(kpp)s)"),
    "file_ogrn": _("Same OGRN %(ogrn)s as row %(row)s of this file"),
    "file_phone": _("Same phone %(phone)s as row %(row)s of this file"),
    "file_email": _("Same e-mail %(email)s as row %(row)s of this file"),
    "file_domain": _("Same e-mail domain %(domain)s as row %(row)s of this file"),
    "file_name": _("Same name “%(name)s” as row %(row)s of this file"),
}
NOTE_MESSAGES: dict[str, Any] = {
    "source_unknown": _("Unknown contact source “%(value)s”: the batch's source is used instead."),
    "status_unknown": _("Unknown status “%(value)s”: the company is imported as a prospect."),
    "contact_without_name": _(
        "The contact person's phone or e-mail has no name beside it: they are added to the company's."
    ),
    "other_entity": _("Shares data with a company that has another INN: imported as a separate company."),
}
_FILE_LEVEL = {
    "file_inn": matching.CERTAIN,
    "file_inn_kpp": matching.CERTAIN,
    "file_inn_branch": matching.STRONG,
    "file_ogrn": matching.CERTAIN,
    "file_phone": matching.STRONG,
    "file_email": matching.STRONG,
    "file_domain": matching.STRONG,
    "file_name": matching.POSSIBLE,
}
_RANK = {matching.CERTAIN: 3, matching.STRONG: 2, matching.POSSIBLE: 1, matching.NONE: 0}


def _level(reason: dict[str, Any]) -> str:
    key = reason.get("key", "")
    return _FILE_LEVEL.get(key) or matching._LEVEL.get(key, matching.NONE)


def _file_reason(key: str, row: int, **params: Any) -> dict[str, Any]:
    params = {**params, "row": row}
    return {
        "code": key.removeprefix("file_").split("_")[0],
        "text": str(FILE_MESSAGES[key]) % params,
        "company": None,
        "row": row,
        "score": 100.0 if key == "file_name" else None,
        "key": key,
        "params": params,
    }


def _note(key: str, field_name: str = "", **params: Any) -> dict[str, Any]:
    return {
        "code": key,
        "text": str(NOTE_MESSAGES[key]) % params,
        "field": field_name,
        "key": key,
        "params": params,
    }


def reason_text(reason: dict[str, Any]) -> str:
    """A reason's sentence in the active language (stored reasons keep the language they were found in)."""
    key = reason.get("key", "")
    message = FILE_MESSAGES.get(key) or NOTE_MESSAGES.get(key)
    if message is not None:
        try:
            return gettext(str(message)) % reason.get("params", {})
        except (KeyError, TypeError, ValueError):
            return str(reason.get("text", ""))
    return matching.reason_text(reason)


def _suffixes(domain: str) -> list[str]:
    parts = domain.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def _phone_key(stored: str) -> str:
    # Phones are stored (and cleaned by the services) in E.164, maybe with ";ext=…" which does not change
    # whose number it is (the matcher's _stored_phone_key).
    return stored.split(";", 1)[0].strip() if ";" in stored else stored


def _stored_email(email: str) -> str:
    # The services store e-mails lower-cased; fold() is what the matcher compares, and the same for ASCII.
    return email.lower() if email.isascii() else fold(email)


_SIMPLE_URL_RE = re.compile(r"https?://([a-z0-9.\-]+)(?:[/?#]|\Z)")


def _website_domain(website: str) -> str:
    """:func:`kurator.inquiries.matching.website_domain`, without parsing the usual ``https://host/…``."""
    match = _SIMPLE_URL_RE.match(website)
    if match is None:
        return matching.website_domain(website)
    host = match[1].strip(".")
    if host.startswith("www."):
        host = host[4:]
    return host if matching._DOMAIN_RE.match(host) else ""


def _array_items(model: Any, column: str, *, live: bool = False) -> Iterator[tuple[int, str, str]]:
    """(company id, person's name or "", item) for every item of a JSON list column of companies or people,
    unnested by the database: 300,000 JSON documents are not decoded one by one in Python."""
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(column)
    if model is Company:
        owner, person, condition = "t.id", "''", "t.merged_into_id IS NULL"
    else:
        owner, person, condition = "t.company_id", "t.full_name", "t.is_active"
    if connection.vendor == "postgresql":
        source = f"{table} t CROSS JOIN LATERAL jsonb_array_elements_text(t.{column}) AS e(value)"
        condition += f" AND jsonb_typeof(t.{column}) = 'array'"
    else:
        source = f"{table} t, json_each(t.{column}) AS e"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {owner}, {person}, e.value FROM {source} WHERE {condition}")  # noqa: S608
        while batch := cursor.fetchmany(10000):
            for company_id, name, value in batch:
                if isinstance(value, str) and value:
                    yield company_id, name, value


class BulkMatcher:
    """:func:`kurator.inquiries.matching.match_company` for many rows at once.

    What the matcher compares — INN/KPP, OGRN, the phones and e-mails of companies and of their people, the
    corporate e-mail domains and websites, the normalised names — is loaded once into dictionaries, and rows
    are looked up in them; rows accepted as new are added as they come, so a later row repeating them is a
    duplicate of that row. Reasons are the matcher's (same keys, codes and sentences). Names are compared
    exactly after normalisation (the matcher's ``name_same``): scoring every pair of 100,000 rows and
    100,000 companies for similarity is what the per-inquiry matcher's trigram index avoids, and has no
    bulk equivalent at that speed.
    """

    def __init__(self) -> None:
        # Keys refer to a company by its id (> 0) or to a row of the file by minus its number (< 0).
        self.inn: dict[str, list[tuple[int, str]]] = {}
        self.ogrn: dict[str, list[int]] = {}
        self.phone: dict[str, list[tuple[int, str]]] = {}
        self.email: dict[str, list[tuple[int, str]]] = {}
        self.domain: dict[str, list[tuple[int, str]]] = {}  # corporate domain -> (ref, an address at it)
        self.site: dict[str, list[int]] = {}  # website host -> companies
        self.shown_name: dict[int, str] = {}  # the name as written, for the name reasons
        self.name: dict[str, list[int]] = {}
        self.name_without_inn: dict[str, list[int]] = {}
        self.name_of: dict[int, str] = {}
        self.inn_of: dict[int, str] = {}
        self.public_domains: set[str] = set()
        self._domains: dict[str, str] = {}  # what follows "@" -> the corporate domain, or "" if public

    @classmethod
    def load(cls) -> BulkMatcher:
        matcher = cls()
        matcher.public_domains = set(PublicMailDomain.objects.values_list("domain", flat=True))
        survivor: dict[int, int] = dict(
            Company.objects.filter(merged_into__isnull=False).values_list("id", "merged_into_id")
        )

        def resolve(company_id: int) -> int:
            seen = set()
            while company_id in survivor and company_id not in seen:
                seen.add(company_id)
                company_id = survivor[company_id]
            return company_id

        rows = Company.objects.values_list(
            "id", "inn", "kpp", "ogrn", "website", "sort_name", "short_name", "merged_into_id"
        )
        for company_id, inn, kpp, ogrn, website, sort_name, short_name, merged_into in rows.iterator(
            chunk_size=10000
        ):
            if merged_into is not None:
                # A merged duplicate keeps its INN row (the unique constraint sees it): its survivor answers.
                if inn:
                    matcher.inn.setdefault(inn, []).append((resolve(company_id), kpp))
                continue
            matcher.inn_of[company_id] = inn
            if inn:
                matcher.inn.setdefault(inn, []).append((company_id, kpp))
            if ogrn:
                matcher.ogrn.setdefault(ogrn, []).append(company_id)
            if website:
                site = _website_domain(website)
                if site:
                    matcher.site.setdefault(site, []).append(company_id)
            if sort_name:
                matcher.add_name(sort_name, company_id, inn)
                matcher.shown_name[company_id] = short_name
        live = matcher.inn_of
        for company_id, person, phone in _array_items(Company, "phones", live=True):
            matcher.phone.setdefault(_phone_key(phone), []).append((company_id, person))
        for company_id, person, email in _array_items(Company, "emails", live=True):
            matcher._add_email(company_id, _stored_email(email), person)
        for company_id, person, phone in _array_items(Contact, "phones"):
            if company_id in live:
                matcher.phone.setdefault(_phone_key(phone), []).append((company_id, person))
        for company_id, person, email in _array_items(Contact, "emails"):
            if company_id in live:
                matcher._add_email(company_id, _stored_email(email), person)
        return matcher

    def _add_email(self, ref: int, email: str, person: str) -> None:
        self.email.setdefault(email, []).append((ref, person))
        domain = self.corporate_domain(email)
        if domain:
            self.domain.setdefault(domain, []).append((ref, email))

    def corporate_domain(self, email: str) -> str:
        """The e-mail's domain unless it is a public mail service (checked once per domain)."""
        tail = email.rpartition("@")[2]
        domain = self._domains.get(tail)
        if domain is None:
            domain = matching.email_domain(email)
            if domain and self.is_public(domain):
                domain = ""
            self._domains[tail] = domain
        return domain

    def is_public(self, domain: str) -> bool:
        return any(s in self.public_domains for s in _suffixes(domain))

    def find(
        self, *, inn: str, kpp: str, ogrn: str, phones: list[str], emails: list[str], name: str
    ) -> dict[int, list[dict[str, Any]]]:
        """Reasons per company (id) or earlier row (minus its number) that the values point to."""
        found: dict[int, list[dict[str, Any]]] = {}

        def add(ref: int, key: str, **params: Any) -> None:
            if ref > 0:
                reason = matching._reason(key, ref, score=100.0 if key == "name_same" else None, **params)
            else:
                reason = _file_reason("file_" + key.split("_company")[0].split("_person")[0], -ref, **params)
            reasons = found.setdefault(ref, [])
            if not any(r["key"] == reason["key"] and r["params"] == reason["params"] for r in reasons):
                reasons.append(reason)

        if inn:
            for ref, their_kpp in self.inn.get(inn, ()):
                if kpp and their_kpp and their_kpp != kpp:
                    add(ref, "inn_branch", inn=inn, kpp=their_kpp)
                elif kpp and their_kpp:
                    add(ref, "inn_kpp", inn=inn, kpp=kpp)
                else:
                    add(ref, "inn", inn=inn)
        if ogrn:
            for ref in self.ogrn.get(ogrn, ()):
                add(ref, "ogrn", ogrn=ogrn)
        for phone in phones:
            for ref, person in self.phone.get(phone, ()):
                if person and ref > 0:
                    add(ref, "phone_person", phone=phone, person=person)
                else:
                    add(ref, "phone_company", phone=phone)
        domains: set[str] = set()
        for email in emails:
            for ref, person in self.email.get(email, ()):
                if person and ref > 0:
                    add(ref, "email_person", email=email, person=person)
                else:
                    add(ref, "email_company", email=email)
            domain = self.corporate_domain(email)
            if domain:
                domains.add(domain)
        for domain in sorted(domains):
            # As the matcher: another address at the domain (the row's own ones are reasons of their own),
            # else a website whose host is the domain or a parent of it (mail.romashka.ru, romashka.ru).
            examples: dict[int, str] = {}
            for ref, example in self.domain.get(domain, ()):
                if example not in emails:
                    examples.setdefault(ref, example)
            for ref, example in examples.items():
                if ref < 0:
                    add(ref, "domain", domain=domain)
                else:
                    add(ref, "domain_email", domain=domain, email=example)
            parts = domain.split(".")
            for site in (".".join(parts[i:]) for i in range(len(parts) - 1)):
                for ref in self.site.get(site, ()):
                    if ref not in examples:
                        add(ref, "domain_website", domain=domain, website=site)
        if name:
            # Namesakes with another INN are other legal entities (the verdict would drop them): a row with an
            # INN looks only at names without one; the same INN is a reason of its own above.
            namesakes = [ref for ref, _kpp in self.inn.get(inn, ()) if self.name_of.get(ref) == name]
            namesakes += self.name_without_inn.get(name, []) if inn else self.name.get(name, [])
            for ref in namesakes[:MAX_NAMESAKES]:
                # Quoted as people write it («ООО «Вектор»»), as the matcher quotes it, not as the sort key.
                shown = self.shown_name.get(ref, name)
                add(ref, "name_same" if ref > 0 else "name", name=shown)
        return found

    def register(
        self,
        row: int,
        *,
        inn: str,
        kpp: str,
        ogrn: str,
        phones: list[str],
        emails: list[str],
        name: str,
        shown: str = "",
    ) -> None:
        """A row accepted as new: later rows repeating its data are its duplicates."""
        ref = -row
        self.shown_name[ref] = shown or name
        self.inn_of[ref] = inn
        if inn:
            self.inn.setdefault(inn, []).append((ref, kpp))
        if ogrn:
            self.ogrn.setdefault(ogrn, []).append(ref)
        for phone in phones:
            self.phone.setdefault(phone, []).append((ref, ""))
        for email in emails:
            self._add_email(ref, email, "")
        if name:
            self.add_name(name, ref, inn)

    def add_name(self, name: str, ref: int, inn: str) -> None:
        self.name_of[ref] = name
        self.name.setdefault(name, []).append(ref)
        if not inn:
            self.name_without_inn.setdefault(name, []).append(ref)

    def verdict(
        self, found: dict[int, list[dict[str, Any]]], inn: str
    ) -> tuple[int | None, list[dict[str, Any]]]:
        """The company (> 0) or row (< 0) the row repeats, with its reasons; ``(None, notes)`` for a new row.

        As the matcher does, a company (or row) whose INN differs from the row's is another legal entity:
        what they share is kept as a note, not a duplicate."""
        candidates: list[tuple[int, int, int, list[dict[str, Any]]]] = []
        notes: list[dict[str, Any]] = []
        for ref, reasons in found.items():
            their_inn = self.inn_of.get(ref, "")
            best = max((_RANK[_level(r)] for r in reasons), default=0)
            if best < _RANK[matching.CERTAIN] and inn and their_inn and their_inn != inn:
                # A shared phone or e-mail is worth a look; a shared common name («Вектор») is not.
                if best == _RANK[matching.STRONG]:
                    notes.extend(r for r in reasons if _level(r) == matching.STRONG)
                continue
            candidates.append((best, len(reasons), ref, reasons))
        if not candidates:
            return None, notes[:MAX_NOTES]
        # Strongest evidence first; a company of the base before a row of the file; then the lowest id.
        candidates.sort(key=lambda c: (-c[0], -c[1], c[2] < 0, abs(c[2])))
        _best, _count, ref, reasons = candidates[0]
        reasons.sort(key=lambda r: -_RANK[_level(r)])
        return ref, reasons


# 3. Rows ---------------------------------------------------------------------------------------------------

_CONTACT_FIELD = {
    "full_name": "contact_name",
    "position": "contact_position",
    "phones": "contact_phones",
    "emails": "contact_emails",
}
# Folded status words of client lists, "|"-separated, besides the statuses' own names.
_STATUS_WORDS = {
    CompanyStatus.CLIENT: "клиент|действующий|действующий клиент|активный|client|customer|active",
    CompanyStatus.PROSPECT: "потенциальный|потенциальный клиент|новый|лид|prospect|lead|new",
    CompanyStatus.FORMER: "бывший|бывший клиент|ушел|неактивный|former|former client|inactive",
}


def _status_lookup() -> dict[str, str]:
    lookup = {fold(w): str(status) for status, words in _STATUS_WORDS.items() for w in words.split("|")}
    for value, label in CompanyStatus.choices:
        lookup[fold(value)] = value
        lookup[fold(str(label))] = value
    return lookup


def _source_lookup() -> dict[str, ContactSource]:
    """Folded source names → source: a sub-source by its own name and as «parent / child»; a top-level
    source wins over a sub-source of the same name."""
    lookup: dict[str, ContactSource] = {}
    sources = list(ContactSource.objects.select_related("parent").order_by("parent_id", "position", "id"))
    for source in sorted(sources, key=lambda s: s.parent_id is not None):
        lookup.setdefault(fold(source.name), source)
        if source.parent is not None:
            for joiner in (" / ", "/", " - ", " — ", ": ", " > "):
                lookup.setdefault(fold(source.parent.name + joiner + source.name), source)
    return lookup


def find_source(name: str) -> ContactSource | None:
    return _source_lookup().get(fold(name))


@dataclass
class RowResult:
    row: int
    status: str
    reasons: list[dict[str, Any]]
    company: int | None = None
    duplicate_of_row: int | None = None
    name: str = ""
    inn: str = ""
    # What a new row writes (not kept in the report).
    company_fields: dict[str, Any] | None = None
    contact_fields: dict[str, Any] | None = None
    bank_fields: dict[str, Any] | None = None
    source_id: int | None = None
    status_value: str = CompanyStatus.PROSPECT
    sort_name: str = ""

    def report(self) -> dict[str, Any]:
        """The row as kept in a batch. A reason with a key is stored without its sentence (rendered again by
        :func:`reason_text` in the reader's language): 100,000 rows of repeated sentences weigh megabytes."""
        entry: dict[str, Any] = {
            "row": self.row,
            "status": self.status,
            "company": self.company,
            "reasons": [
                {k: v for k, v in r.items() if k != "text"} if "key" in r else r for r in self.reasons
            ],
            "name": self.name,
            "inn": self.inn,
        }
        if self.duplicate_of_row is not None:
            entry["duplicate_of_row"] = self.duplicate_of_row
        return entry


@dataclass
class Checked:
    """A row after the services' checks and before matching: what an apply reuses from its preview."""

    row: int
    name: str
    inn: str
    refused: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    keys: dict[str, Any] | None = None  # what the matcher compares, for a row not refused
    company_fields: dict[str, Any] | None = None
    contact_fields: dict[str, Any] | None = None
    bank_fields: dict[str, Any] | None = None
    source_id: int | None = None
    status_value: str = CompanyStatus.PROSPECT

    def as_json(self) -> list[Any]:
        return [
            self.row,
            self.name,
            self.inn,
            self.refused,
            self.notes,
            self.keys,
            self.company_fields,
            self.contact_fields,
            self.bank_fields,
            self.source_id,
            self.status_value,
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> Checked:
        return cls(*data)


@dataclass
class Analysis:
    table: Table
    mapping: dict[int, str]
    rows: list[RowResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    checked: list[Checked] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys(STATUSES, 0)
        for row in self.rows:
            totals[row.status] += 1
        return totals

    def report(self) -> list[dict[str, Any]]:
        return [row.report() for row in self.rows]


def _messages(error: ValidationError) -> Iterator[tuple[str, str, str]]:
    """(field, code, message) of a service's ValidationError."""
    for field_name, errors in error.error_dict.items():
        for item in errors:
            for message in item.messages:
                yield field_name, item.code or "invalid", message


def _pad_number(value: str, lengths: dict[int, int], check: Any = None) -> str:
    """A number that lost its leading zeros (a spreadsheet cell formatted as a number) gets them back;
    ``check`` confirms the padded number when a wrong length is more likely a typo than a lost zero."""
    number = clean_number(value)
    if number.isdigit() and len(number) in lengths:
        padded = number.zfill(lengths[len(number)])
        if check is None:
            return padded
        try:
            check(padded)
        except ValidationError:
            return value
        return padded
    return value


@dataclass
class _Named:
    """What build_sort_name reads of a company, without building a model instance for every row."""

    short_name: str


class _Analyser:
    def __init__(self, table: Table, mapping: dict[int, str], *, matcher: BulkMatcher) -> None:
        self.table = table
        self.mapping = mapping
        self.matcher = matcher
        self.columns: dict[str, list[int]] = {}
        for index, code in sorted(mapping.items()):
            if code != IGNORE and index < len(table.headers):
                self.columns.setdefault(code, []).append(index)
        self.sources = _source_lookup() if "source" in self.columns else {}
        self.statuses = _status_lookup() if "status" in self.columns else {}
        # The services' cleaning is called with a company that is not saved; they only look at its id.
        self.placeholder = Company()

    def value(self, cells: list[str], code: str) -> str:
        indexes = self.columns.get(code)
        if not indexes:
            return ""
        values = [cells[i].strip() for i in indexes if i < len(cells) and cells[i].strip()]
        return "\n".join(values) if FIELDS_BY_CODE[code].multiple else (values[0] if values else "")

    def column_of(self, code: str) -> str:
        indexes = self.columns.get(code) or []
        return self.table.headers[indexes[0]] if indexes else ""

    def refuse(self, reasons: list[dict[str, Any]], field_name: str, code: str, message: str) -> None:
        reasons.append(
            {"code": code, "field": field_name, "column": self.column_of(field_name), "text": message}
        )

    def check(self, number: int, cells: list[str]) -> Checked:
        """The row through the services' checks: refusals, notes and cleaned values (no matching yet)."""
        get = self.value
        refused: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        inn, kpp = get(cells, "inn"), get(cells, "kpp")
        combined = get(cells, "inn_kpp")
        if combined and not inn:
            inn, _sep, rest = combined.replace("\\", "/").partition("/")
            kpp = kpp or rest
        inn = _pad_number(inn, {9: 10, 11: 12}, validate_inn)
        kpp = _pad_number(kpp, {8: 9})
        data: dict[str, Any] = {
            "full_name": get(cells, "full_name"),
            "inn": inn,
            "kpp": kpp,
            "ogrn": get(cells, "ogrn"),
            "phones": get(cells, "phones"),
            "emails": get(cells, "emails"),
        }
        for code in ("short_name", "legal_address", "actual_address", "city", "website", "notes", "fax"):
            if code in self.columns:
                data[code] = get(cells, code)
        contact_name = get(cells, "contact_name")
        contact_phones, contact_emails = get(cells, "contact_phones"), get(cells, "contact_emails")
        if not contact_name and (contact_phones or contact_emails):
            notes.append(_note("contact_without_name", "contact_name"))
            data["phones"] = "\n".join(v for v in (data["phones"], contact_phones) if v)
            data["emails"] = "\n".join(v for v in (data["emails"], contact_emails) if v)
            contact_phones = contact_emails = ""

        errors = FieldErrors()
        cleaned = services._clean_company(errors, data, current=None)
        for field_name, code, message in _messages(ValidationError(errors.errors)) if errors.errors else ():
            self.refuse(refused, field_name, code, message)

        contact_cleaned: dict[str, Any] | None = None
        if contact_name:
            contact_errors = FieldErrors()
            contact_data = {"full_name": contact_name, "phones": contact_phones, "emails": contact_emails}
            if "contact_position" in self.columns:
                contact_data["position"] = get(cells, "contact_position")
            contact_cleaned = services._clean_contact(
                contact_errors, contact_data, company=self.placeholder, current=None
            )
            if contact_errors.errors:
                for field_name, code, message in _messages(ValidationError(contact_errors.errors)):
                    self.refuse(refused, _CONTACT_FIELD.get(field_name, field_name), code, message)

        bank_cleaned: dict[str, Any] | None = None
        bank_data = {
            code: get(cells, code)
            for code in ("bik", "settlement_account", "correspondent_account", "bank_name")
            if code in self.columns
        }
        if any(bank_data.values()):
            bank_data["bik"] = _pad_number(bank_data.get("bik", ""), {8: 9})
            bank_errors = FieldErrors()
            bank_cleaned = services._clean_bank_account(bank_errors, bank_data, None)
            if bank_errors.errors:
                for field_name, code, message in _messages(ValidationError(bank_errors.errors)):
                    self.refuse(refused, field_name, code, message)
            bank_cleaned["is_primary"] = True

        source: ContactSource | None = None
        source_name = get(cells, "source")
        if source_name:
            source = self.sources.get(fold(source_name))
            if source is None:
                notes.append(_note("source_unknown", "source", value=source_name))
        status_value: str = CompanyStatus.PROSPECT
        status_text = get(cells, "status")
        if status_text:
            found_status = self.statuses.get(fold(status_text))
            if found_status is None:
                notes.append(_note("status_unknown", "status", value=status_text))
            else:
                status_value = found_status

        checked = Checked(
            row=number,
            name=cleaned.get("short_name") or cleaned.get("full_name") or data["full_name"],
            inn=cleaned.get("inn") or inn,
            refused=refused,
            notes=notes,
        )
        if refused:
            return checked
        checked.keys = {
            "inn": cleaned.get("inn", ""),
            "kpp": cleaned.get("kpp", ""),
            "ogrn": cleaned.get("ogrn", ""),
            "phones": [_phone_key(p) for p in cleaned.get("phones", [])]
            + [_phone_key(p) for p in (contact_cleaned or {}).get("phones", [])],
            "emails": [fold(e) for e in cleaned.get("emails", [])]
            + [fold(e) for e in (contact_cleaned or {}).get("emails", [])],
            "name": build_sort_name(cast(Company, _Named(cleaned["short_name"]))),
        }
        checked.company_fields = {k: str(v) if isinstance(v, LegalForm) else v for k, v in cleaned.items()}
        checked.contact_fields = contact_cleaned
        checked.bank_fields = bank_cleaned
        checked.source_id = source.pk if source is not None else None
        checked.status_value = str(status_value)
        return checked

    def match(self, checked: Checked) -> RowResult:
        """The verdict on a checked row against the base and the earlier rows; a new row joins those."""
        result = RowResult(row=checked.row, status=NEW, reasons=[], name=checked.name, inn=checked.inn)
        notes = list(checked.notes)
        if checked.refused or checked.keys is None:
            result.status, result.reasons = REFUSED, checked.refused + notes
            return result
        keys = checked.keys
        found = self.matcher.find(**keys)
        ref, reasons = self.matcher.verdict(found, keys["inn"])
        if ref is not None:
            result.status = DUPLICATE
            if ref > 0:
                result.company = ref
            else:
                result.duplicate_of_row = -ref
            result.reasons = reasons + notes
            return result
        result.reasons = [_note("other_entity"), *reasons, *notes] if reasons else notes
        self.matcher.register(checked.row, shown=checked.name, **keys)
        result.company_fields = checked.company_fields
        result.contact_fields = checked.contact_fields
        result.bank_fields = checked.bank_fields
        result.source_id = checked.source_id
        result.status_value = checked.status_value
        result.sort_name = keys["name"]
        return result


def analyse(
    table: Table,
    mapping: dict[int, str],
    *,
    matcher: BulkMatcher | None = None,
    writer: _Writer | None = None,
    checked: list[Checked] | None = None,
) -> Analysis:
    """Sort every row into new, duplicate or refused. Writes nothing, unless a ``writer`` is given: it gets
    each new row as soon as it is known (the apply writes while it reads). ``checked`` are the rows as an
    earlier analysis of the same file checked them: only the matching is done again."""
    analysis = Analysis(table=table, mapping=mapping, problems=mapping_problems(mapping))
    if analysis.problems:
        return analysis
    analyser = _Analyser(table, mapping, matcher=matcher or BulkMatcher.load())
    items = checked if checked is not None else (analyser.check(n, cells) for n, cells in table.rows)
    for item in items:
        result = analyser.match(item)
        if writer is not None and result.status == NEW:
            writer.add(result)
        analysis.rows.append(result)
        analysis.checked.append(item)
    return analysis


# Services --------------------------------------------------------------------------------------------------


def _clean_curator(curator: Any, *, required: bool) -> User | None:
    if curator in (None, ""):
        if required:
            raise ValidationError(
                {"curator": [ValidationError(_("Choose the curator of the new companies."), code="required")]}
            )
        return None
    if not isinstance(curator, User):
        try:
            curator = User.objects.filter(pk=int(curator)).first()
        except (TypeError, ValueError):
            curator = None
    if not may_curate(curator):
        raise ValidationError(
            {
                "curator": [
                    ValidationError(
                        _("The curator must be an active sales employee."), code="invalid_curator"
                    )
                ]
            }
        )
    return curator


def _clean_source(source: Any) -> ContactSource | None:
    if source in (None, ""):
        return None
    if isinstance(source, ContactSource):
        return source
    found: ContactSource | None = None
    if isinstance(source, int) or (isinstance(source, str) and source.strip().isdigit()):
        found = ContactSource.objects.filter(pk=int(source)).first()
    if found is None:
        found = find_source(str(source))
    if found is None:
        raise ValidationError(
            {"source": [ValidationError(_("Choose a value from the list."), code="invalid_choice")]}
        )
    return found


def _analyse_bytes(data: bytes, filename: str, mapping: dict[Any, Any] | None) -> Analysis:
    try:
        table = read_table(data, filename)
    except ImportFileError as exc:
        raise exc.as_validation_error() from None
    return analyse(table, resolve_mapping(table.headers, mapping))


def import_dry_run(
    *,
    actor: User,
    data: bytes,
    filename: str = "",
    mapping: dict[Any, Any] | None = None,
    curator: Any = None,
    source: Any = None,
) -> Analysis:
    """What an import of the file would do, row by row. Writes nothing at all."""
    ensure(actor, "companies.import_clients")
    _clean_curator(curator, required=False)
    _clean_source(source)
    return _analyse_bytes(data, filename, mapping)


# The checked rows of a preview are kept beside the batch's file, so that the apply only matches them again
# against the base as it is then (the checks take two thirds of the time). The key ties them to the file,
# the mapping and the contact sources they were checked with; anything else and the rows are checked anew.
CHECKED_VERSION = 1


def _checked_name(batch: ImportBatch) -> str:
    return f"{batch.file.name}.checked.json.gz"


def _checked_key(batch: ImportBatch, mapping: dict[int, str]) -> str:
    sources = list(ContactSource.objects.order_by("id").values_list("id", "parent_id", "name"))
    payload = [CHECKED_VERSION, batch.checksum, mapping_to_json(mapping), sources]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


def _save_checked(batch: ImportBatch, analysis: Analysis) -> None:
    if analysis.problems:
        return
    payload = {
        "key": _checked_key(batch, analysis.mapping),
        "rows": [item.as_json() for item in analysis.checked],
    }
    data = gzip.compress(json.dumps(payload, ensure_ascii=False).encode(), compresslevel=1)
    storage, name = batch.file.storage, _checked_name(batch)
    if storage.exists(name):
        storage.delete(name)
    storage.save(name, ContentFile(data))


def _load_checked(batch: ImportBatch, mapping: dict[int, str]) -> list[Checked] | None:
    try:
        with batch.file.storage.open(_checked_name(batch), "rb") as handle:
            payload = json.loads(gzip.decompress(handle.read()))
        if payload.get("key") != _checked_key(batch, mapping):
            return None
        return [Checked.from_json(item) for item in payload["rows"]]
    except (OSError, ValueError, EOFError, TypeError, KeyError, AttributeError):
        return None  # missing or damaged: the apply checks the rows itself


def _store(batch: ImportBatch, analysis: Analysis) -> None:
    batch.encoding = analysis.table.encoding
    batch.delimiter = analysis.table.delimiter
    batch.mapping = mapping_to_json(analysis.mapping)
    batch.totals = analysis.totals
    batch.report = analysis.report()


@transaction.atomic
def import_prepare(
    *,
    actor: User,
    data: bytes,
    filename: str,
    curator: Any,
    source: Any = None,
    mapping: dict[Any, Any] | None = None,
    strict: bool = False,
) -> ImportBatch:
    """Keep the file and its preview as a batch waiting to be applied; writes nothing to the dossier.

    A mapping that leaves the rows unreadable (no company name column) is kept for the user to correct,
    unless ``strict``: then it is refused and nothing is kept."""
    ensure(actor, "companies.import_clients")
    curator_user = _clean_curator(curator, required=True)
    default_source = _clean_source(source)
    analysis = _analyse_bytes(data, filename, mapping)
    if strict and analysis.problems:
        raise ValidationError({"mapping": analysis.problems})
    batch = ImportBatch(
        original_name=(filename or "clients.csv")[-255:],
        checksum=hashlib.sha256(data).hexdigest(),
        curator=curator_user,
        source=default_source,
        created_by=actor,
    )
    _store(batch, analysis)
    batch.file.save(_storage_name(filename), ContentFile(data), save=False)
    batch.save()
    _save_checked(batch, analysis)
    return batch


def _storage_name(filename: str) -> str:
    suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    return f"clients{suffix}"


def _batch_table(batch: ImportBatch) -> Table:
    with batch.file.open("rb") as handle:
        data = handle.read()
    return read_table(data, batch.original_name)


def _already_applied() -> ValidationError:
    return ValidationError(
        _("This import is already applied: upload the file again to import it anew."), code="applied"
    )


@transaction.atomic
def import_remap(
    *, actor: User, batch: ImportBatch, mapping: dict[Any, Any], curator: Any = None, source: Any = None
) -> ImportBatch:
    """Read the batch's file again with a corrected column mapping (and curator or source)."""
    ensure(actor, "companies.import_clients")
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status == ImportStatus.APPLIED:
        raise _already_applied()
    if curator is not None:
        batch.curator = _clean_curator(curator, required=True)
    if source is not None:
        batch.source = _clean_source(source)
    table = _batch_table(batch)
    analysis = analyse(table, resolve_mapping(table.headers, mapping))
    _store(batch, analysis)
    batch.status = ImportStatus.PREVIEW
    batch.save()
    _save_checked(batch, analysis)
    return batch


def _lock_imports() -> None:
    # Two imports at once would each miss the other's rows as duplicates; on PostgreSQL they queue here.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('kurator.inquiries.import'))")


def import_apply(*, actor: User, batch: ImportBatch) -> ImportBatch:
    """Write the batch's new rows to the dossier, in one transaction; the rows are checked again against the
    base as it is now, so applying a file twice creates nothing the second time. A failure leaves the base
    as it was and marks the batch failed."""
    ensure(actor, "companies.import_clients")
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
            if batch.status == ImportStatus.APPLIED:
                raise _already_applied()
            _clean_curator(batch.curator, required=True)
            _lock_imports()
            table = _batch_table(batch)
            mapping = resolve_mapping(table.headers, mapping_from_json(batch.mapping))
            problems = mapping_problems(mapping)
            if problems:
                raise ValidationError({"mapping": problems})
            matcher = BulkMatcher.load()
            checked = _load_checked(batch, mapping)
            with _Writer(actor=actor, batch=batch, rows=len(table.rows)) as writer:
                analysis = analyse(table, mapping, matcher=matcher, writer=writer, checked=checked)
            writer.link(analysis)
            _store(batch, analysis)
            batch.status = ImportStatus.APPLIED
            batch.applied_at = timezone.now()
            batch.save()
    except ValidationError as exc:
        if getattr(exc, "code", None) != "applied":
            _mark_failed(batch)
        raise
    except Exception:
        _mark_failed(batch)
        raise
    return batch


def _mark_failed(batch: ImportBatch) -> None:
    if batch.pk is not None:
        ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.PREVIEW).update(
            status=ImportStatus.FAILED
        )
        batch.refresh_from_db(fields=["status"])


class _Record(SimpleNamespace):
    """A row about to be inserted: every column of its model by attribute name, defaults included, as the
    model's constructor would set them (without its cost, which 300,000 rows feel). The derived-field
    functions read it like an instance."""


@dataclass(frozen=True)
class _Blank:
    """The values a model's constructor gives a new instance, once per model rather than once per row."""

    values: dict[str, Any]
    mutable: tuple[str, ...]  # defaults like [] that each record needs a copy of

    @classmethod
    def of(cls, model: Any) -> _Blank:
        values = {f.attname: f.get_default() for f in model._meta.concrete_fields}
        return cls(values, tuple(k for k, v in values.items() if isinstance(v, list | dict)))

    def record(self, values: dict[str, Any]) -> _Record:
        record = _Record(**self.values)
        record.__dict__.update(values)
        for key in self.mutable:
            if key not in values:
                setattr(record, key, copy.copy(self.values[key]))
        return record


class _Writer:
    """Writes the new rows of an apply as the analysis finds them, with their history records and the derived
    columns computed as company_create, contact_create and bank_account_create leave them.

    On PostgreSQL the companies stream into a COPY while the rest of the file is still being checked, so that
    the database builds its indexes on one processor while Python checks rows on another; their ids are
    taken from the sequence beforehand, one per row of the file (rows that turn out duplicates or refused
    leave a gap, as a rolled-back insert does). People, bank accounts and the history follow in COPYs of their
    own. Elsewhere everything is inserted in bulk at the end."""

    def __init__(self, *, actor: User, batch: ImportBatch, rows: int) -> None:
        self.actor, self.batch, self.rows = actor, batch, rows
        self.now = timezone.now()
        self.reason = gettext("Imported from the file “%(name)s”") % {"name": batch.original_name}
        self.blank = {model: _Blank.of(model) for model in (Company, Contact, BankAccount)}
        self.stamps = {
            "curator_id": batch.curator_id,
            "created_by_id": actor.pk,
            "general_updated_at": self.now,
            "requisites_updated_at": self.now,
        }
        self.companies: list[_Record] = []
        self.contacts: list[tuple[_Record, _Record]] = []  # (person, their company)
        self.accounts: list[tuple[_Record, _Record]] = []
        self.streaming = connection.vendor == "postgresql"
        self.fields: list[Any] = list(Company._meta.concrete_fields)
        self.values: list[list[Any]] = []

    def __enter__(self) -> _Writer:
        self._bulk = _bulk_load()
        self._bulk.__enter__()
        self._stream: Any = None
        return self

    def _start_stream(self) -> None:
        # At the first new row, not before: the analysis reads its dictionaries first, and no query can run
        # while a COPY is open.
        self.ids = iter(_reserve_ids(Company, self.rows))
        self._stream = _copy_stream(Company._meta.db_table, [f.column for f in self.fields])
        self.copy = self._stream.__enter__()

    def add(self, row: RowResult) -> None:
        fields = {k: v for k, v in (row.company_fields or {}).items() if k != "product_categories"}
        # The batch's source by its id: loading the related row would be a query inside the COPY.
        source_id = row.source_id if row.source_id is not None else self.batch.source_id
        fields.update(self.stamps, status=row.status_value, source_id=source_id)
        company = self.blank[Company].record(fields)
        people: list[_Record] = []
        if row.contact_fields is not None:
            people.append(self.blank[Contact].record(row.contact_fields))
            company.people_updated_at = self.now
        as_company, as_people = cast(Company, company), cast(list[Contact], people)
        status = checklist_status(as_company, as_people, row.bank_fields is not None, False)
        company.completeness = completeness_of(status)
        company.search_text = build_search_text(as_company, as_people)
        company.sort_name = row.sort_name  # build_sort_name of the same short name, computed by the analysis
        if self.streaming:
            if self._stream is None:
                self._start_stream()
            company.id = next(self.ids)
            (values,) = _copy_values(self.fields, [company])
            self.copy.write_row(values)
            self.values.append(values)
        self.companies.append(company)
        self.contacts += [(person, company) for person in people]
        if row.bank_fields is not None:
            self.accounts.append((self.blank[BankAccount].record(row.bank_fields), company))

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        try:
            if self._stream is not None:
                # Ends the COPY, or abandons it when the analysis failed.
                self._stream.__exit__(exc_type, exc, traceback)
            if exc_type is None:
                self._finish()
        except BaseException as error:
            self._bulk.__exit__(type(error), error, error.__traceback__)
            raise
        self._bulk.__exit__(exc_type, exc, traceback)

    def _finish(self) -> None:
        options: dict[str, Any] = {"actor": self.actor, "reason": self.reason, "when": self.now}
        if self.streaming:
            _copy_history(Company, self.fields, self.values, **options)
        else:
            _insert(Company, self.companies, **options)
        for record, company in self.contacts + self.accounts:
            record.company_id = company.id
        _insert(Contact, [person for person, _company in self.contacts], **options)
        _insert(BankAccount, [account for account, _company in self.accounts], **options)

    def link(self, analysis: Analysis) -> None:
        """The ids of the companies created, on the rows that created them and on the rows repeating those."""
        new_rows = [row for row in analysis.rows if row.status == NEW]
        by_row: dict[int, int] = {}
        for row, company in zip(new_rows, self.companies, strict=True):
            row.company = by_row[row.row] = company.id
        for row in analysis.rows:
            if row.duplicate_of_row is not None and row.company is None:
                row.company = by_row.get(row.duplicate_of_row)


@contextmanager
def _bulk_load() -> Iterator[None]:
    """On PostgreSQL, let the GIN indexes (trigram search, contact keys) collect the new entries in their
    pending lists and merge them in bulk once, instead of every few megabytes: a third of the insert time.
    The merge happens here, in the transaction, so that searches after the import are as fast as before."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL gin_pending_list_limit = '256MB'")
    yield
    tables = [Company._meta.db_table, Contact._meta.db_table, BankAccount._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam "
            "WHERE am.amname = 'gin' AND i.indrelid::regclass::text = ANY(%s)",
            [tables],
        )
        for (index,) in cursor.fetchall():
            try:
                with transaction.atomic():
                    cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
            except DatabaseError:
                pass  # not the index's owner: autovacuum merges the list soon
        cursor.execute("SET LOCAL gin_pending_list_limit = DEFAULT")


def _insert(model: Any, records: list[_Record], *, actor: User, reason: str, when: Any) -> None:
    """Insert ``records`` (setting their ids) with a creation record in the history for each, as their
    services' ``save()`` would leave them: on PostgreSQL with COPY, elsewhere with bulk inserts."""
    if not records:
        return
    if connection.vendor != "postgresql":
        objs = [model(**vars(r)) for r in records]
        bulk_create_with_history(
            objs,
            model,
            batch_size=BATCH_SIZE,
            default_user=actor,
            default_change_reason=reason,
            default_date=when,
        )
        for record, obj in zip(records, objs, strict=True):
            record.id = obj.pk
        return
    for record, pk in zip(records, _reserve_ids(model, len(records)), strict=True):
        record.id = pk
    fields = model._meta.concrete_fields
    values = _copy_values(fields, records)
    with _copy_stream(model._meta.db_table, [f.column for f in fields]) as copy:
        for row in values:
            copy.write_row(row)
    _copy_history(model, fields, values, actor=actor, reason=reason, when=when)


def _reserve_ids(model: Any, count: int) -> list[int]:
    """Ids from the table's own sequence, taken before the rows are written so that their history (and the
    rows that point at them) can carry them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _copy_history(
    model: Any, fields: list[Any], values: list[list[Any]], *, actor: User, reason: str, when: Any
) -> None:
    """A creation record in ``model``'s history for each row of ``values`` (the model's column values)."""
    history = model.history.model
    extras = {
        "history_date": when,
        "history_change_reason": reason,
        "history_type": "+",
        "history_user_id": actor.pk,
    }
    position = {f.attname: i for i, f in enumerate(fields)}
    columns = [f for f in history._meta.concrete_fields if f.attname != "history_id"]
    picks = [(f.attname in extras, extras.get(f.attname), position.get(f.attname, -1)) for f in columns]
    if any(not is_extra and index < 0 for is_extra, _value, index in picks):
        raise TypeError(f"{history.__name__} has a column {model.__name__} has not")
    with _copy_stream(history._meta.db_table, [f.column for f in columns]) as copy:
        for row in values:
            copy.write_row([value if is_extra else row[index] for is_extra, value, index in picks])


def _copy_values(fields: list[Any], objs: list[Any]) -> list[list[Any]]:
    """Column values of ``objs`` for COPY, as an INSERT would write them: created_at/updated_at filled in by
    pre_save, JSON as its text; the driver adapts the rest (text, numbers, dates, booleans, NULL). Done per
    field kind rather than through get_db_prep_save, which costs more than the COPY itself at 100,000 rows."""
    plain, stamped, json_fields = [], [], []
    for index, f in enumerate(fields):
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            stamped.append((index, f))
        elif f.get_internal_type() == "JSONField":
            json_fields.append((index, f.attname, f.encoder))
        else:
            plain.append((index, f.attname))
    rows = []
    width = len(fields)
    for obj in objs:
        row: list[Any] = [None] * width
        values = obj.__dict__
        for index, attname in plain:
            row[index] = values[attname]
        for index, attname, encoder in json_fields:
            value = values[attname]
            row[index] = None if value is None else json.dumps(value, ensure_ascii=False, cls=encoder)
        for index, f in stamped:
            row[index] = f.pre_save(obj, True)
        rows.append(row)
    return rows


@contextmanager
def _copy_stream(table: str, columns: list[str]) -> Iterator[Any]:
    """A COPY into ``table``: ``write_row`` what is to be inserted; leaving the block ends it."""
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN"
    # The driver's cursor (Django's has no COPY), its errors turned into Django's (IntegrityError …).
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.cursor.copy(sql) as stream:
        yield stream


# 5. The result as XLSX -------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula (``=…``, ``+…``, ``-…``, ``@…``) is written as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export_xlsx(batch: ImportBatch, out: Any) -> None:
    """The batch's file with three more columns: the status, the company id and the reasons."""
    write_xlsx(_batch_table(batch), batch.report, out)


def write_xlsx(table: Table, report: list[dict[str, Any]], out: Any) -> None:
    """The file's columns plus status, company id and reasons, as XLSX (write-only: constant memory)."""
    import openpyxl

    by_row = {entry["row"]: entry for entry in report}
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=gettext("Import")[:31])
    sheet.append(
        [escape_cell(h) for h in table.headers]
        + [gettext("Import status"), gettext("Company id"), gettext("Reasons")]
    )
    width = len(table.headers)
    for number, cells in table.rows:
        entry = by_row.get(number, {})
        status = entry.get("status", "")
        reasons = "; ".join(_reason_line(r) for r in entry.get("reasons", []))
        padded = (cells + [""] * width)[:width]
        sheet.append(
            [escape_cell(c) for c in padded]
            + [str(STATUS_LABELS.get(status, status)), entry.get("company"), escape_cell(reasons)]
        )
    workbook.save(out)


def result_file_name(batch: ImportBatch) -> str:
    stem = batch.original_name.rsplit(".", 1)[0] or "clients"
    return f"{stem}-{gettext('result')}.xlsx"


def _reason_line(reason: dict[str, Any]) -> str:
    text = reason_text(reason)
    column = reason.get("column")
    return f"{column}: {text}" if column else text

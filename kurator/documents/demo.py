"""Demo documents (``manage.py demo_data``): a few small real PDFs in the dossiers of a handful of clients.

Uploaded through the services, as the curator would: a signed contract scan tied to a contract, the client's
requisites card, a letter; one document with two versions; one moved to the trash. The PDFs are generated
here — minimal but valid (one page, Helvetica text, a correct cross-reference table) — so that the demo needs
no files and every download opens in a PDF reader and passes the checksum check.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from django.core.files.base import ContentFile
from django.utils import timezone

from kurator.companies.models import Company
from kurator.documents import services
from kurator.documents.models import DocumentSection

# How many clients get demo documents.
DEMO_CLIENTS = 5


_LATIN = "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya"
_CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", _LATIN.split(" "), strict=True))
_CYRILLIC["ъ"] = _CYRILLIC["ь"] = ""


def _latin(text: str) -> str:
    out = []
    for ch in text:
        low = ch.lower()
        if low in _CYRILLIC:
            latin = _CYRILLIC[low]
            out.append(latin.capitalize() if ch != low else latin)
        else:
            out.append({"«": '"', "»": '"', "№": "No."}.get(ch, ch))
    return "".join(out)


def _pdf_text(text: str) -> str:
    """A line for a PDF string with the standard Helvetica font: Latin letters only (transliterated)."""
    latin = _latin(text).encode("ascii", "replace").decode("ascii")
    return latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF 1.4 showing ``lines`` (Cyrillic is transliterated), with a valid xref table."""
    stream_lines = ["BT", "/F1 14 Tf", "72 770 Td", "18 TL"]
    for line in lines:
        stream_lines.append(f"({_pdf_text(line)}) Tj T*")
    stream_lines.append("ET")
    content = "\n".join(stream_lines).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


@dataclass
class DemoDocumentsResult:
    documents: int = 0
    versions: int = 0


def _pdf(name: str, lines: list[str]) -> ContentFile:
    return ContentFile(minimal_pdf(lines), name=name)


def _date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def load_demo_documents(*, rng: random.Random, companies: list[Company]) -> DemoDocumentsResult:
    """Documents for up to five clients that have a contract (through the services, by the curator)."""
    from kurator.finance.models import Contract

    result = DemoDocumentsResult()
    today = timezone.localdate()
    contracts = list(
        Contract.objects.filter(company__in=[c.pk for c in companies])
        .select_related("company__curator")
        .order_by("company_id", "pk")
    )
    seen: set[int] = set()
    chosen: list[Contract] = []
    for contract in contracts:
        if contract.company_id not in seen and contract.company.curator.is_active:
            seen.add(contract.company_id)
            chosen.append(contract)
    rng.shuffle(chosen)
    for index, contract in enumerate(chosen[:DEMO_CLIENTS]):
        company = contract.company
        curator = company.curator
        signed = contract.signed_on or today
        number = contract.number
        services.document_upload(
            actor=curator,
            company=company,
            section=DocumentSection.CONTRACTS,
            contract=contract,
            file=_pdf(
                f"Договор № {number} от {_date(signed)} (скан с подписями).pdf",
                [
                    f"Договор поставки № {number}",
                    f"от {_date(signed)}",
                    company.full_name,
                    "Подписано сторонами",
                ],
            ),
            comment="Скан подписанного экземпляра",
        )
        result.documents += 1
        result.versions += 1
        card = services.document_upload(
            actor=curator,
            company=company,
            section=DocumentSection.REQUISITES,
            file=_pdf(
                f"Карточка предприятия {company.short_name}.pdf",
                [
                    "Карточка предприятия",
                    company.full_name,
                    f"ИНН {company.inn}" + (f" КПП {company.kpp}" if company.kpp else ""),
                    f"ОГРН {company.ogrn}" if company.ogrn else "",
                ],
            ),
        )
        result.documents += 1
        result.versions += 1
        letter = services.document_upload(
            actor=curator,
            company=company,
            section=DocumentSection.CORRESPONDENCE,
            file=_pdf(
                f"Письмо о сроках поставки от {_date(today)}.pdf",
                ["Письмо", f"Уважаемые коллеги из {company.short_name}!", "Подтверждаем сроки поставки."],
            ),
            comment="Исходящее письмо",
        )
        result.documents += 1
        result.versions += 1
        if index == 0:
            # The requisites changed: the card is uploaded again as version 2; version 1 stays.
            services.document_add_version(
                actor=curator,
                document=card,
                file=_pdf(
                    f"Карточка предприятия {company.short_name} (новый банк).pdf",
                    ["Карточка предприятия", company.full_name, "Реквизиты обновлены: новый банк"],
                ),
                comment="Сменился банк",
            )
            result.versions += 1
        if index == 1:
            services.document_trash(
                actor=curator, document=letter, reason="Загружено по ошибке, не тот клиент"
            )
    return result

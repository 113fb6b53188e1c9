"""Sample files of every accepted (and several refused) kind, and documents made through the services."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kurator.access.models import AccessGrant
from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.documents import services
from kurator.documents.demo import minimal_pdf
from kurator.documents.models import Document

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _zip(entries: dict[str, bytes], *, mimetype_first: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        if mimetype_first is not None:
            archive.writestr(zipfile.ZipInfo("mimetype"), mimetype_first, compress_type=zipfile.ZIP_STORED)
        for name, data in entries.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _ooxml(main: str, part: str) -> bytes:
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'content-types"><Override PartName="/{part}" ContentType="{main}"/></Types>'
    ).encode()
    return _zip({"[Content_Types].xml": types, part: b"<x/>", "_rels/.rels": b"<r/>"})


def _ole2(stream: str) -> bytes:
    # A compound file header, padding, and a directory entry naming the stream (UTF-16LE), as Office writes.
    return OLE2 + b"\x00" * 504 + stream.encode("utf-16-le") + b"\x00\x00" + b"\x00" * 1000


PDF = minimal_pdf(["Dogovor No 12"])
SAMPLES: dict[str, tuple[str, bytes]] = {
    "pdf": ("Договор.pdf", PDF),
    "docx": (
        "Договор.docx",
        _ooxml(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            "word/document.xml",
        ),
    ),
    "xlsx": (
        "Акт сверки.xlsx",
        _ooxml(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", "xl/workbook.xml"
        ),
    ),
    "pptx": (
        "Презентация.pptx",
        _ooxml(
            "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
            "ppt/presentation.xml",
        ),
    ),
    "odt": (
        "Письмо.odt",
        _zip({"content.xml": b"<x/>"}, mimetype_first="application/vnd.oasis.opendocument.text"),
    ),
    "ods": (
        "Таблица.ods",
        _zip({"content.xml": b"<x/>"}, mimetype_first="application/vnd.oasis.opendocument.spreadsheet"),
    ),
    "doc": ("Старый договор.doc", _ole2("WordDocument")),
    "xls": ("Старая таблица.xls", _ole2("Workbook")),
    "ppt": ("Старая презентация.ppt", _ole2("PowerPoint Document")),
    "rtf": ("Письмо.rtf", b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} Hello}"),
    "png": ("Скан.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40),
    "jpeg": ("Скан.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40),
    "gif": ("Печать.gif", b"GIF89a\x01\x00\x01\x00" + b"\x00" * 20),
    "webp": ("Фото.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 30),
    "tiff": ("Скан.tif", b"II*\x00\x08\x00\x00\x00" + b"\x00" * 30),
}
REFUSED: dict[str, tuple[str, bytes]] = {
    "exe renamed pdf": ("Договор.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100 + b"PE\x00\x00"),
    "html": ("Письмо.html", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    "html renamed pdf": ("Письмо.pdf", b"<html><body onload=alert(1)></body></html>"),
    "svg": ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    "svg with xml prolog": ("logo.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
    "plain zip": ("archive.docx", _zip({"readme.txt": b"hello"})),
    "epub": ("book.odt", _zip({"content.opf": b"<x/>"}, mimetype_first="application/epub+zip")),
    "msi (ole2 without office streams)": ("setup.doc", _ole2("SummaryInformation")),
    "plain text": ("Договор.pdf", "Просто текст".encode()),
    "broken zip": ("Договор.docx", b"PK\x03\x04" + b"\x00" * 50),
}
MACRO_DOCX = (
    "Макрос.docx",
    _ooxml("application/vnd.ms-word.document.macroEnabled.main+xml", "word/document.xml"),
)


def upload(name: str = "Договор №12.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def document_factory(*, actor: User, company: Company, **fields: Any) -> Document:
    fields.setdefault("section", "contracts")
    fields.setdefault("file", upload())
    return services.document_upload(actor=actor, company=company, **fields)


def grant(
    *, user: User, company: Company, granted_by: User, document: Document | None = None, days: int = 7
) -> AccessGrant:
    """A live grant as the head of sales' approval makes it (the access services are another helper's)."""
    return AccessGrant.objects.create(
        user=user,
        company=company,
        document=document,
        granted_by=granted_by,
        expires_on=timezone.localdate() + timedelta(days=days),
    )

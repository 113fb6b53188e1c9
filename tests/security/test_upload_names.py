"""Path tricks in upload names (D12, R4): a file's name never decides where it is stored or what a download
header says.

Each tricky name (parent directories, Windows paths, absolute paths, encoded dots, a NUL byte, a very long
name, quotes and line breaks meant to inject a header, a right-to-left override, a reserved Windows name,
Cyrillic) is uploaded through the documents service, the API (``POST /api/v1/documents/``, and a new version
through ``POST /api/v1/documents/{id}/versions/``) and the page (``/documents/company/<pk>/upload/``). The
multipart bodies are written by hand: Django's test client would strip the path from the name itself.

Accepted or refused (400, a form error) — never a server error; and when accepted: the stored file lies
under MEDIA_ROOT/documents/<company>/<document>/ under a random name, the display name has no path, control
character or leading dot and fits 255 characters, and the download's Content-Disposition has no line break,
no unescaped quote and no path.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import NoReverseMatch, reverse

from tests.security.conftest import make_client
from tests.security.world import PDF_BYTES, World

TRICKS = [
    "../../etc/passwd.pdf",
    "..\\..\\windows\\win.ini.pdf",
    "/etc/passwd",
    "C:\\boot.ini",
    "%2e%2e%2f.pdf",
    "..%2F..%2Fsecret.pdf",
    "a\x00b.pdf",
    "report.pdf\x00.exe",
    "x" * 400 + ".pdf",
    "Д" * 200 + ".pdf",  # 400 bytes of UTF-8
    'evil".pdf',
    "evil\r\nSet-Cookie: owned=1.pdf",
    "name\nX-Injected: 1.pdf",
    "a\"b'c;d=e.pdf",
    "CON.pdf",
    ".htaccess",
    "\u202efdp.exe",  # right-to-left override: shows as exe.pdf
    "   ",
    "..",
    "Договор №12 от 01.02.2026.pdf",
]
STORAGE_NAME = re.compile(r"^documents/\d+/\d+/[0-9a-f]{32}$")
RFC5987 = re.compile(r"^[A-Za-z0-9!#$&+.^_`|~%-]*$")


def documents_ready() -> bool:
    try:
        reverse("document-list")
        reverse("documents:company_upload", args=[1])
    except NoReverseMatch:
        return False
    return True


pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not documents_ready(), reason="the documents API and pages are not routed yet"),
]


def name_problems(label: str, name: str) -> list[str]:
    problems = []
    if not name:
        problems.append(f"{label}: empty")
    if "/" in name or "\\" in name:
        problems.append(f"{label}: a path separator in {name!r}")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        problems.append(f"{label}: a control or format character in {name!r}")
    if name.startswith("."):
        problems.append(f"{label}: a leading dot in {name!r}")
    if len(name) > 255 or len(name.encode()) > 255:
        problems.append(f"{label}: longer than 255 characters or bytes ({len(name)})")
    return problems


def stored_problems(label: str, document: Any, media: Path) -> list[str]:
    problems = name_problems(f"{label} document name", document.name)
    for version in document.versions.all():
        problems += name_problems(f"{label} version name", version.original_name)
        if not STORAGE_NAME.match(version.file.name):
            problems.append(f"{label}: storage name {version.file.name!r} is not a random name")
        path = Path(default_storage.path(version.file.name)).resolve()
        if not path.is_relative_to(media.resolve()):
            problems.append(f"{label}: stored outside MEDIA_ROOT at {path}")
        if not path.exists():
            problems.append(f"{label}: the stored file {path} is missing")
    return problems


def header_problems(label: str, disposition: str) -> list[str]:
    problems = []
    if any(ch in disposition for ch in "\r\n\x00"):
        problems.append(f"{label}: a line break or NUL in Content-Disposition {disposition!r}")
    if not disposition.startswith("attachment"):
        problems.append(f"{label}: not an attachment: {disposition!r}")
    plain = re.search(r'filename="((?:[^"\\]|\\.)*)"', disposition)
    if plain is None:
        problems.append(f"{label}: no quoted filename in {disposition!r}")
    elif "/" in plain.group(1) or "\\" in plain.group(1).replace('\\"', ""):
        problems.append(f"{label}: a path in the filename {plain.group(1)!r}")
    extended = re.search(r"filename\*=UTF-8''([^;]*)", disposition)
    if extended is not None and not RFC5987.match(extended.group(1)):
        problems.append(f"{label}: filename* is not RFC 5987 encoded: {extended.group(1)!r}")
    rest = re.sub(r'filename="(?:[^"\\]|\\.)*"', "", disposition)
    if '"' in rest:
        problems.append(f"{label}: an unbalanced quote in {disposition!r}")
    return problems


def multipart(fields: dict[str, str], file_name: str, content: bytes = PDF_BYTES) -> tuple[bytes, str]:
    """A multipart body with ``file_name`` exactly as given (Django's client would take its basename)."""
    boundary = "----kurator-sectests-boundary"
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + file_name.encode("utf-8", "surrogatepass")
        + b'"\r\nContent-Type: application/pdf\r\n\r\n'
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def newest_document(company: Any, before: int) -> Any:
    from kurator.documents.models import Document

    return Document.objects.filter(company=company, pk__gt=before).order_by("-pk").first()


def last_pk() -> int:
    from kurator.documents.models import Document

    return Document.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.parametrize("trick", TRICKS, ids=[repr(t)[:40] for t in TRICKS])
def test_the_service_keeps_names_harmless(world: World, media: Path, trick: str) -> None:
    """D12: the documents service, given a tricky file name or display name, stores under a random name
    inside MEDIA_ROOT and keeps a clean display name (or refuses with a field error)."""
    from kurator.documents.services import document_upload

    head = world.users["head"]
    company = world.own["head"]
    problems: list[str] = []
    for how in ("file name", "display name"):
        try:
            upload = SimpleUploadedFile(
                trick if how == "file name" else "scan.pdf", PDF_BYTES, "application/pdf"
            )
        except SuspiciousFileOperation:
            continue  # Django's UploadedFile refuses the name itself ("..")
        extra = {"name": trick} if how == "display name" else {}
        with transaction.atomic():
            try:
                document = document_upload(
                    actor=head, company=company, section="contracts", file=upload, **extra
                )
            except ValidationError:
                document = None
            if document is not None:
                problems += stored_problems(how, document, media)
            transaction.set_rollback(True)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("trick", TRICKS, ids=[repr(t)[:40] for t in TRICKS])
def test_the_api_and_the_page_keep_names_and_download_headers_harmless(
    world: World, media: Path, trick: str
) -> None:
    """D12, R4: uploads through the API (new document and new version) and the page with a tricky name
    are accepted with a clean name or refused (400 / the form again), never a 5xx; safe download headers."""
    client = make_client(world, "head")
    company = world.own["head"]
    document = world.records[company.pk]["document"]
    problems: list[str] = []
    attempts = [
        ("API upload", "/api/v1/documents/", {"company": str(company.pk), "section": "contracts"}),
        ("API version", f"/api/v1/documents/{document.pk}/versions/", {}),
        ("page upload", reverse("documents:company_upload", args=[company.pk]), {"section": "contracts"}),
    ]
    for label, url, fields in attempts:
        body, content_type = multipart(fields, trick)
        with transaction.atomic():
            before = last_pk()
            response = client.generic("POST", url, body, content_type=content_type)
            status = response.status_code
            if status >= 500:
                problems.append(f"{label} {trick!r}: server error {status}")
            elif status in (200, 201, 302, 303):
                target = document if label == "API version" else newest_document(company, before)
                if label == "page upload" and status == 200:
                    target = newest_document(company, before)  # the form again: refused, nothing stored
                if target is not None:
                    target.refresh_from_db()
                    problems += stored_problems(f"{label} {trick!r}", target, media)
                    for download in (
                        f"/api/v1/documents/{target.pk}/download/",
                        reverse("documents:download", args=[target.pk]),
                    ):
                        answer = client.get(download)
                        if answer.status_code != 200:
                            problems.append(
                                f"{label} {trick!r}: download {download} answered {answer.status_code}"
                            )
                            continue
                        problems += header_problems(
                            f"{label} {trick!r} {download}", answer["Content-Disposition"]
                        )
                        # Read to the end through the client's wrapper, which closes the file without
                        # firing request_finished (close() would close the database connection).
                        b"".join(answer.streaming_content)
                elif status in (201,):
                    problems.append(f"{label} {trick!r}: 201 but no document was stored")
            elif status != 400:
                problems.append(f"{label} {trick!r}: unexpected {status} {response.content[:200]!r}")
            else:
                payload = json.loads(response.content) if label.startswith("API") else {}
                if label.startswith("API") and not payload:
                    problems.append(f"{label} {trick!r}: a 400 without a field error")
            transaction.set_rollback(True)
    assert not problems, "\n".join(problems)


def test_nothing_was_written_outside_the_media_root(media: Path) -> None:
    """D12: after the uploads above, no file named after a trick exists next to or above MEDIA_ROOT."""
    for folder in (media.parent, media.parent.parent, Path("/etc")):
        for name in ("passwd.pdf", "win.ini.pdf", "boot.ini", "secret.pdf", ".htaccess"):
            assert not (folder / name).exists(), folder / name
    for path in media.rglob("*"):
        if path.is_file() and path.relative_to(media).parts[0] == "documents":
            assert re.fullmatch(r"[0-9a-f]{32}", path.name), path


def test_the_header_check_finds_an_injected_header() -> None:
    assert header_problems("x", 'attachment; filename="a.pdf"\r\nSet-Cookie: x=1')
    assert header_problems("x", 'attachment; filename="../a.pdf"')
    assert not header_problems("x", "attachment; filename=\"a.pdf\"; filename*=UTF-8''%D0%94.pdf")

"""S1, R4: /api/v1/imports/ — dry run that writes nothing, preview and apply, every row with its status and
reasons, file errors as field messages, and who may import."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from kurator.accounts.models import Role
from kurator.companies.models import Company, ContactSource
from kurator.inquiries.models import ImportBatch, ImportStatus
from tests.factories import company_factory

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parent / "files"
CP1251 = (FILES / "clients_cp1251.csv").read_bytes()
URL = "/api/v1/imports/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def client_for(user) -> APIClient:
    client = APIClient(headers={"Accept-Language": "en"})
    if user is not None:
        client.force_authenticate(user)
    return client


def upload(data: bytes = CP1251, name: str = "clients.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.fixture
def old_client(manager):
    return company_factory(
        actor=manager,
        full_name="ЗАО «Старый клиент»",
        inn="6486579752",
        kpp="648601001",
        phones=["+73432223344"],
    )


def test_dry_run_answers_every_row_and_writes_nothing_at_all(head, old_client):
    """S1: `?dry_run=1` lists every row as {row, status, company, reasons} with totals, and writes nothing —
    not even a batch."""
    companies = Company.objects.count()
    response = client_for(head).post(f"{URL}?dry_run=1", {"file": upload()}, format="multipart")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] is None
    assert body["totals"] == {"new": 5, "duplicate": 2, "refused": 2}
    assert (body["encoding"], body["delimiter"]) == ("cp1251", ";")
    rows = {row["row"]: row for row in body["rows"]}
    assert set(rows[2]) == {"row", "status", "company", "reasons"}
    assert rows[8]["status"] == "duplicate" and rows[8]["company"] == old_client.pk
    assert rows[8]["reasons"][0]["code"] == "inn"
    assert rows[8]["reasons"][0]["text"] == "Same INN 6486579752 and KPP 648601001"
    assert rows[6]["status"] == "refused"
    assert rows[6]["reasons"] == [
        {
            "code": "inn_checksum",
            "field": "inn",
            "column": "ИНН",
            "text": "INN checksum does not match: check the digits.",
        }
    ]
    assert rows[5]["reasons"][0]["row"] == 2
    assert Company.objects.count() == companies
    assert not ImportBatch.objects.exists()


def test_import_applies_at_once_and_again_creates_nothing(head, manager):
    """S1: without dry_run the file is imported; the batch can be read back; the same file again creates
    nothing new."""
    source = ContactSource.objects.get(name="Интернет")
    client = client_for(head)
    response = client.post(
        URL, {"file": upload(), "curator": manager.pk, "source": "интернет"}, format="multipart"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "applied"
    assert body["totals"] == {"new": 6, "duplicate": 1, "refused": 2}
    new_ids = [row["company"] for row in body["rows"] if row["status"] == "new"]
    assert Company.objects.filter(pk__in=new_ids, curator=manager).count() == 6
    assert Company.objects.get(pk=new_ids[2]).source == source  # row 4 names no source: the default

    again = client.get(f"{URL}{body['id']}/")
    assert again.status_code == 200
    assert again.json()["rows"] == body["rows"]

    count = Company.objects.count()
    second = client.post(URL, {"file": upload(), "curator": manager.pk}, format="multipart")
    assert second.json()["totals"] == {"new": 0, "duplicate": 7, "refused": 2}
    assert Company.objects.count() == count


def test_preview_then_apply_and_download(head, manager):
    """S1: `?preview=1` keeps a batch and writes nothing; POST …/apply/ writes it; a second apply is refused;
    the result downloads as XLSX."""
    client = client_for(head)
    count = Company.objects.count()
    response = client.post(f"{URL}?preview=1", {"file": upload(), "curator": manager.pk}, format="multipart")
    assert response.status_code == 201
    batch_id = response.json()["id"]
    assert response.json()["status"] == "preview"
    assert Company.objects.count() == count

    applied = client.post(f"{URL}{batch_id}/apply/")
    assert applied.status_code == 200
    assert applied.json()["status"] == "applied"
    assert Company.objects.count() == count + 6
    repeat = client.post(f"{URL}{batch_id}/apply/")
    assert repeat.status_code == 400
    assert Company.objects.count() == count + 6

    download = client.get(f"{URL}{batch_id}/download/")
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(download.getvalue())).active
    assert sheet.max_row == 10

    listing = client.get(URL)
    assert listing.status_code == 200
    assert [item["id"] for item in listing.json()["results"]] == [batch_id]


def test_the_mapping_can_be_corrected(head):
    """S1: a `mapping` JSON field corrects the automatic column mapping."""
    data = "Кто такие;ИНН\r\nООО Ромашка;4226018159\r\n".encode("cp1251")
    client = client_for(head)
    refused = client.post(f"{URL}?dry_run=1", {"file": upload(data)}, format="multipart")
    assert refused.status_code == 400
    assert "company name" in refused.json()["mapping"][0]
    response = client.post(
        f"{URL}?dry_run=1",
        {"file": upload(data), "mapping": json.dumps({"0": "full_name"})},
        format="multipart",
    )
    assert response.status_code == 200
    assert response.json()["totals"]["new"] == 1
    assert response.json()["mapping"] == {"0": "full_name", "1": "inn"}
    bad = client.post(f"{URL}?dry_run=1", {"file": upload(data), "mapping": "{oops"}, format="multipart")
    assert bad.status_code == 400 and "mapping" in bad.json()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        ("Наименование;ИНН\r\n".encode("cp1251"), "only the column headings"),
        (b"%PDF-1.4 binary", "PDF"),
        (b"Name;INN\r\n\x98\x98;1\r\n", "not UTF-8 or Windows-1251"),
    ],
)
def test_unreadable_files_are_a_400_with_the_reason(head, manager, data, words):
    """S1: file problems come back as {"file": [message]} and nothing is kept."""
    response = client_for(head).post(URL, {"file": upload(data), "curator": manager.pk}, format="multipart")
    assert response.status_code == 400
    assert words in response.json()["file"][0]
    assert not ImportBatch.objects.exists()


def test_oversize_file_and_missing_file_and_curator(head, manager, settings):
    """S1: over the size limit, no file, no curator: a 400 naming the field."""
    client = client_for(head)
    settings.KURATOR_IMPORT_MAX_BYTES = 100
    response = client.post(URL, {"file": upload(), "curator": manager.pk}, format="multipart")
    assert response.status_code == 400 and "limit" in response.json()["file"][0]
    settings.KURATOR_IMPORT_MAX_BYTES = 10**6
    assert "file" in client.post(URL, {"curator": manager.pk}, format="multipart").json()
    response = client.post(URL, {"file": upload()}, format="multipart")
    assert response.status_code == 400 and "curator" in response.json()
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.MANAGER, 403),
        (Role.SENIOR_MANAGER, 403),
        (Role.FINANCE, 403),
        (Role.HEAD_OF_SALES, 200),
        (Role.ADMIN, 200),
    ],
)
def test_only_the_head_of_sales_and_the_administrator_import(users_by_role, role, expected):
    """S1, R4: companies.import_clients belongs to the head of sales and the administrator."""
    client = client_for(users_by_role[role])
    response = client.post(f"{URL}?dry_run=1", {"file": upload()}, format="multipart")
    assert response.status_code == expected
    assert client.get(URL).status_code == expected


def test_a_manager_cannot_read_or_apply_a_batch_and_anonymous_gets_401(head, manager):
    """S1, R4: a manager gets 403 on every import endpoint; nothing is written."""
    batch_id = (
        client_for(head)
        .post(f"{URL}?preview=1", {"file": upload(), "curator": manager.pk}, format="multipart")
        .json()["id"]
    )
    client = client_for(manager)
    count = Company.objects.count()
    assert client.get(f"{URL}{batch_id}/").status_code == 403
    assert client.post(f"{URL}{batch_id}/apply/").status_code == 403
    assert client.get(f"{URL}{batch_id}/download/").status_code == 403
    assert client.post(URL, {"file": upload(), "curator": manager.pk}, format="multipart").status_code == 403
    assert Company.objects.count() == count
    assert ImportBatch.objects.get().status == ImportStatus.PREVIEW
    assert (
        client_for(None).post(f"{URL}?dry_run=1", {"file": upload()}, format="multipart").status_code == 401
    )
    assert client_for(head).get(f"{URL}999999/").status_code == 404

"""S1: the import pages — upload, preview with the column mapping, apply, re-apply, download — for the head of
sales only; file errors inline with nothing written; constant queries on the preview page."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kurator.companies.models import Company
from kurator.inquiries.models import ImportBatch, ImportStatus
from tests.factories import company_factory

pytestmark = pytest.mark.django_db

HEADER = "№;Наименование;ИНН;КПП;Телефон;Контактное лицо;Примечание"
ROWS = [
    '1;"ООО ""Василёк""";7160913900;716043003;+7 812 555-00-11;Петрова Анна Сергеевна;=1+2',
    '2;"ЗАО ""Старый клиент""";6486579752;648601001;8 (343) 222-33-44;;-5',
    '3;"ООО ""Ошибка""";1234567890;;;;@SUM(A1)',
    '4;"ООО ""Василёк""";7160913900;716043003;+7 812 555-00-11;;+повтор',
]


def csv_bytes(rows: list[str] = ROWS, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("cp1251")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def old_client(manager):
    return company_factory(actor=manager, full_name="ЗАО «Старый клиент»", inn="6486579752", kpp="648601001")


def logged_in(client, user):
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def upload(client, manager, data: bytes | None = None, name: str = "clients.csv"):
    return client.post(
        reverse("imports:upload"),
        {"file": SimpleUploadedFile(name, csv_bytes() if data is None else data), "curator": manager.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_upload_shows_the_preview_with_totals_and_reasons(client, head, manager, old_client):
    """S1: the head uploads a Windows-1251 `;` CSV with Russian headings; the preview shows the encoding, the
    delimiter, the totals, the duplicate linked to its company and the refused row naming the INN."""
    companies = Company.objects.count()
    response = upload(logged_in(client, head), manager)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:preview", args=[batch.pk])
    assert batch.status == ImportStatus.PREVIEW
    assert batch.totals == {"new": 1, "duplicate": 2, "refused": 1}
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Windows-1251" in html and "semicolon (;)" in html
    assert 'data-testid="total-new"' in html and "New 1" in html and "Duplicate 2" in html
    assert "Refused 1" in html
    assert reverse("companies:detail", args=[old_client.pk]) in html
    assert "1 new company will be created; duplicates and refused rows are skipped." in html
    refused = client.get(response["Location"] + "?status=refused", HTTP_ACCEPT_LANGUAGE="en")
    body = refused.content.decode()
    assert 'data-status="refused"' in body and 'data-status="new"' not in body
    assert "<strong>ИНН:</strong>" in body
    assert 'data-row="2"' not in body  # only the refused row is listed
    assert Company.objects.count() == companies


def test_changing_the_mapping_runs_the_preview_again(client, head, manager, old_client):
    """S1: a column mapped to "ignore" makes the engine read the rows again: without the INN column the bad
    INN is no longer refused and the base's client is no longer found by INN."""
    upload(logged_in(client, head), manager)
    batch = ImportBatch.objects.get()
    url = reverse("imports:preview", args=[batch.pk])
    mapping = {f"column_{i}": code for i, code in {int(k): v for k, v in batch.mapping.items()}.items()}
    assert mapping["column_2"] == "inn"
    mapping["column_2"] = "ignore"
    response = client.post(url, mapping, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.mapping["2"] == "ignore"
    assert batch.totals["refused"] == 0
    # A field chosen twice is refused with the engine's message and changes nothing.
    mapping["column_2"] = "full_name"
    response = client.post(url, mapping, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "is chosen for several columns" in response.content.decode()
    batch.refresh_from_db()
    assert batch.mapping["2"] == "ignore"


def test_apply_creates_the_new_companies_once(client, head, manager, old_client):
    """S1: apply creates exactly the new rows' companies; a second apply is refused and writes nothing; the
    same file uploaded again shows no new rows."""
    upload(logged_in(client, head), manager)
    batch = ImportBatch.objects.get()
    before = set(Company.objects.values_list("pk", flat=True))
    response = client.post(reverse("imports:apply", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    created = Company.objects.exclude(pk__in=before)
    assert [c.inn for c in created] == ["7160913900"]
    assert created.get().curator == manager
    batch.refresh_from_db()
    assert batch.status == ImportStatus.APPLIED
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The import is applied: 1 new company created." in page
    assert reverse("companies:detail", args=[created.get().pk]) in page
    assert 'data-testid="apply-form"' not in page

    again = client.post(reverse("imports:apply", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "already applied" in again.content.decode()
    assert Company.objects.count() == len(before) + 1

    upload(client, manager)
    second = ImportBatch.objects.exclude(pk=batch.pk).get()
    assert second.totals == {"new": 0, "duplicate": 3, "refused": 1}
    page = client.get(reverse("imports:preview", args=[second.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "0 new companies will be created" in page.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"%PDF-1.4 something", "The file is not a table"),
    ],
)
def test_a_bad_file_is_reported_inline_and_writes_nothing(client, head, manager, data, message):
    """S1: empty or non-tabular files get the engine's message under the file field; no batch, no company."""
    companies = Company.objects.count()
    response = upload(logged_in(client, head), manager, data=data)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_file_errors"' in html and message in html
    assert not ImportBatch.objects.exists()
    assert Company.objects.count() == companies


def test_a_file_over_the_limit_is_reported_inline(client, head, manager, settings):
    """S1: a file over the size limit is refused before it is read."""
    settings.KURATOR_IMPORT_MAX_BYTES = 100
    response = upload(logged_in(client, head), manager, data=csv_bytes())
    assert response.status_code == 400
    assert "the limit is" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_download_escapes_formulas(client, head, manager, old_client):
    """S1: the result is an XLSX with a status column; cells starting with = + - @ are written as text."""
    upload(logged_in(client, head), manager)
    batch = ImportBatch.objects.get()
    response = client.get(reverse("imports:download", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    values = [cell for row in workbook.active.iter_rows(values_only=True) for cell in row]
    assert "Import status" in values
    notes = [v for v in values if isinstance(v, str) and v[:2] in ("'=", "'-", "'@", "'+")]
    assert {"'+повтор", "'-5", "'=1+2", "'@SUM(A1)", "'+7 812 555-00-11"} <= set(notes)
    assert not any(isinstance(v, str) and v[:1] in "=+-@" for v in values)


def test_a_manager_gets_403_on_every_import_page(client, head, manager):
    """S1: only the head of sales and the administrator import; a manager is refused everywhere."""
    upload(logged_in(client, head), manager)
    batch = ImportBatch.objects.get()
    client.logout()
    logged_in(client, manager)
    companies = Company.objects.count()
    for method, name, args in [
        ("get", "imports:upload", []),
        ("post", "imports:upload", []),
        ("get", "imports:preview", [batch.pk]),
        ("post", "imports:preview", [batch.pk]),
        ("post", "imports:apply", [batch.pk]),
        ("get", "imports:download", [batch.pk]),
    ]:
        response = getattr(client, method)(reverse(name, args=args))
        assert response.status_code == 403, (method, name)
    assert ImportBatch.objects.count() == 1
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEW
    assert Company.objects.count() == companies
    assert reverse("imports:upload") not in client.get(reverse("companies:list")).content.decode()


def test_the_head_sees_the_import_entry_and_recent_batches(client, head, manager):
    """S1: the navigation shows Import to the head; the upload page lists recent batches."""
    upload(logged_in(client, head), manager)
    page = client.get(reverse("imports:upload"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="{reverse("imports:upload")}"' in page
    assert 'data-testid="import-batches"' in page and "clients.csv" in page


def test_the_preview_page_runs_the_same_queries_for_10_and_50_rows(client, head, manager):
    """S1: the preview page costs the same queries whatever the rows (companies fetched at once)."""
    logged_in(client, head)

    def rows(count: int) -> list[str]:
        return [f'{i};"ООО ""Фирма {i}""";;;+7 495 100-{i:02d}-{i:02d};;' for i in range(1, count + 1)]

    upload(client, manager, data=csv_bytes(rows(10)), name="ten.csv")
    upload(client, manager, data=csv_bytes(rows(50)), name="fifty.csv")
    ten, fifty = (
        ImportBatch.objects.get(original_name="ten.csv"),
        ImportBatch.objects.get(original_name="fifty.csv"),
    )
    for batch in (ten, fifty):
        client.post(reverse("imports:apply", args=[batch.pk]))
    client.get(reverse("imports:preview", args=[ten.pk]))  # warm caches
    counts = []
    for batch in (ten, fifty):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("imports:preview", args=[batch.pk]))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_bad_file_is_reported_even_when_the_curator_is_missing(client, head):
    """S1: the file's own problem is named at once, beside the other field errors; nothing is written."""
    response = logged_in(client, head).post(
        reverse("imports:upload"), {"file": SimpleUploadedFile("x.csv", b"%PDF-1.4 x")}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_file_errors"' in html and "The file is not a table" in html
    assert 'id="id_curator_errors"' in html
    assert not ImportBatch.objects.exists()

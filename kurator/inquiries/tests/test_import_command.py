"""S1: ``manage.py import_clients`` — totals and refused rows printed, --dry-run writes nothing, a second
run creates nothing new, clear errors."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from kurator.companies.models import Company, ContactSource
from kurator.inquiries.models import ImportBatch, ImportStatus

pytestmark = pytest.mark.django_db

FILE = Path(__file__).parent / "files" / "clients_cp1251.csv"


@pytest.fixture(autouse=True)
def english_and_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"):
        yield


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_clients", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_totals_and_refused_rows_and_writes_nothing(head, manager):
    """S1: the dry run names the encoding, the columns, the totals and every refused row with its field."""
    output = run(str(FILE), "--dry-run", "--curator", manager.username, "--actor", head.username)
    assert "CSV (Windows-1251, semicolon (;)), 9 rows" in output
    assert "«ИНН» → INN" in output and "«№» → ignored" in output
    assert "New: 6, duplicates: 1, refused: 2" in output
    assert 'row 6: ООО "Ошибка" — ИНН: INN checksum does not match: check the digits.' in output
    assert "row 7: " in output and "Телефон: Phone number 12345" in output
    assert "Dry run: nothing was written." in output
    assert not Company.objects.exists()
    assert not ImportBatch.objects.exists()


def test_import_then_the_same_file_again_creates_nothing(head, manager, tmp_path):
    """S1: the import writes the new companies with the curator and the source; run twice, nothing new; the
    result can be written as XLSX."""
    report = tmp_path / "result.xlsx"
    output = run(
        str(FILE),
        "--curator",
        manager.username,
        "--actor",
        head.username,
        "--source",
        "Интернет",
        "--report",
        str(report),
    )
    assert "New: 6, duplicates: 1, refused: 2" in output
    assert "Imported 6 new companies" in output
    assert Company.objects.filter(curator=manager).count() == 6
    assert Company.objects.filter(source=ContactSource.objects.get(name="Интернет")).count() >= 3
    assert ImportBatch.objects.get().status == ImportStatus.APPLIED
    sheet = openpyxl.load_workbook(report).active
    assert sheet.max_row == 10

    output = run(str(FILE), "--curator", manager.username, "--actor", head.username, "-v", "2")
    assert "New: 0, duplicates: 7, refused: 2" in output
    assert "row 5: ООО «Ромашка» = #" in output
    assert Company.objects.count() == 6


def test_errors_are_clear(head, manager, tmp_path):
    """S1, R4: an unknown user, a missing file, an unreadable one, a manager as the importer."""
    with pytest.raises(CommandError, match="No user named “nobody”"):
        run(str(FILE), "--curator", "nobody")
    with pytest.raises(CommandError, match="File not found"):
        run(str(tmp_path / "missing.csv"), "--curator", manager.username)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="The file is empty"):
        run(str(empty), "--curator", manager.username, "--actor", head.username)
    with pytest.raises(CommandError, match="may not import client lists"):
        run(str(FILE), "--curator", manager.username)
    with pytest.raises(CommandError, match="not valid JSON"):
        run(str(FILE), "--curator", manager.username, "--mapping", "{")
    assert not Company.objects.exists()

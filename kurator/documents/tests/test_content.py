"""D12/R4: a file's type is decided by its content, not its name; names are made safe to show and to save."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError

from kurator.documents.content import (
    KINDS,
    Refused,
    clean_display_name,
    file_name_for,
    inspect_file,
)
from kurator.documents.tests.factories import MACRO_DOCX, REFUSED, SAMPLES

LIMIT = 1024 * 1024


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_accepted_kind_is_recognised_by_its_bytes(kind):
    """D12: PDF, OOXML, ODF, legacy Office, RTF and the image formats are told apart by content."""
    _name, data = SAMPLES[kind]
    inspection = inspect_file(io.BytesIO(data), max_bytes=LIMIT)
    assert inspection.kind.code == kind
    assert inspection.size == len(data)
    import hashlib

    assert inspection.sha256 == hashlib.sha256(data).hexdigest()


def test_the_kind_does_not_depend_on_the_name():
    """D12: a PDF called «.jpg» is a PDF."""
    _name, data = SAMPLES["pdf"]
    file = io.BytesIO(data)
    file.name = "фото.jpg"
    assert inspect_file(file, max_bytes=LIMIT).kind.code == "pdf"


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_other_kinds_are_refused_whatever_their_name(case):
    """R4: a renamed .exe, HTML and SVG (which a browser would run), plain zips and text are refused."""
    _name, data = REFUSED[case]
    with pytest.raises(Refused) as caught:
        inspect_file(io.BytesIO(data), max_bytes=LIMIT)
    assert caught.value.code == "unsupported_type"
    assert "checked by the file's content" in caught.value.messages[0]


def test_office_documents_with_macros_are_refused():
    """R4: a macro-enabled Word file is refused with a message saying what to do."""
    with pytest.raises(Refused) as caught:
        inspect_file(io.BytesIO(MACRO_DOCX[1]), max_bytes=LIMIT)
    assert caught.value.code == "macros"


def test_an_empty_file_is_refused():
    with pytest.raises(Refused) as caught:
        inspect_file(io.BytesIO(b""), max_bytes=LIMIT)
    assert caught.value.code == "empty"


def test_a_file_over_the_limit_is_refused_without_reading_it_all():
    """D12: the size limit; reading stops at the limit."""
    data = SAMPLES["pdf"][1] + b"\x00" * 2000
    with pytest.raises(Refused) as caught:
        inspect_file(io.BytesIO(data), max_bytes=1000)
    assert caught.value.code == "too_large"
    assert isinstance(caught.value, ValidationError)
    # Exactly at the limit is accepted.
    assert inspect_file(io.BytesIO(data[:1000]), max_bytes=1000).size == 1000


def test_a_legacy_office_stream_name_split_across_chunks_is_found():
    """The OLE2 directory entry may straddle two reads."""
    from kurator.documents.content import CHUNK, OLE2_MAGIC

    name = "WordDocument".encode("utf-16-le")
    data = OLE2_MAGIC + b"\x00" * (CHUNK - len(OLE2_MAGIC) - 6) + name + b"\x00" * 100
    assert inspect_file(io.BytesIO(data), max_bytes=LIMIT).kind.code == "doc"


# Names ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("C:\\Users\\Иван\\Desktop\\Договор.pdf", "Договор.pdf"),
        ("/var/www/../x.pdf", "x.pdf"),
        ("CON.pdf", "_CON.pdf"),
        ("con", "_con"),
        ("lpt1.docx", "_lpt1.docx"),
        ("Договор\x00.exe.pdf", "Договор .exe.pdf"),
        ("..hidden.pdf", "hidden.pdf"),
        (".htaccess", "htaccess"),
        ("  Договор   №12\t от\n01.02.2026.pdf  ", "Договор №12 от 01.02.2026.pdf"),
        ("«Договор №12».pdf", "«Договор №12».pdf"),
        ("what?.pdf", "what_.pdf"),
        ('a<b>c:"d"|e*.pdf', "a_b_c__d__e_.pdf"),
        ("file.pdf...", "file.pdf"),
        ("\u202efdp.exe", "fdp.exe"),
        ("", ""),
        ("...", ""),
    ],
)
def test_names_are_made_safe(raw, expected):
    """D12: no path, no control characters, no leading dots, no reserved Windows names; Cyrillic and «»
    stay."""
    assert clean_display_name(raw) == expected


def test_very_long_cyrillic_names_are_shortened_before_the_extension():
    """Within 255 characters and 255 UTF-8 bytes, the extension kept."""
    raw = "Дополнительное соглашение " * 30 + ".pdf"
    name = clean_display_name(raw)
    assert name.endswith(".pdf")
    assert len(name) <= 255 and len(name.encode("utf-8")) <= 255
    assert name.startswith("Дополнительное соглашение")


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("Договор №12.pdf", "pdf", "Договор №12.pdf"),
        ("Договор №12.PDF", "pdf", "Договор №12.PDF"),
        ("Договор №12 от 01.02.2026", "pdf", "Договор №12 от 01.02.2026.pdf"),
        ("scan.pdf", "jpeg", "scan.jpg"),
        ("photo.jpeg", "jpeg", "photo.jpeg"),
        ("Договор", "docx", "Договор.docx"),
        ("report.final", "pdf", "report.final.pdf"),
        ("../../etc/passwd", "pdf", "passwd.pdf"),
        ("", "pdf", "Запасное имя.pdf"),
    ],
)
def test_the_extension_follows_the_detected_type(raw, kind, expected):
    """D12: the name's extension is kept when it fits the content, replaced or added otherwise."""
    assert file_name_for(raw, KINDS[kind], "Запасное имя") == expected


def test_a_long_name_gets_its_extension_within_the_limit():
    name = file_name_for("Я" * 300, KINDS["pdf"], "x")
    assert name.endswith(".pdf") and len(name.encode("utf-8")) <= 255

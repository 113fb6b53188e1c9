"""D12 (nothing is lost) and R4: uploads, versions, the trash, purging and verified downloads, through the
services. Refused actions write nothing — no row, no stored file; every upload, trash, restore, purge and
download is in the audit log with the rule that allowed it."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.utils import timezone

from kurator.access.models import AccessGrant, AccessRequest, AuditEvent
from kurator.core.errors import AccessDenied
from kurator.documents import services
from kurator.documents.models import Document, DocumentVersion
from kurator.documents.tests.factories import PDF, REFUSED, SAMPLES, document_factory, grant, upload
from kurator.finance.services import contracts as contract_services
from kurator.sales import services as sales_services
from tests.factories import company_factory

pytestmark = pytest.mark.django_db


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def snapshot(settings) -> tuple:
    return (
        list(Document.objects.order_by("pk").values()),
        list(DocumentVersion.objects.order_by("pk").values()),
        sorted(str(p) for p in stored_files(settings)),
    )


def contract_for(actor, company, number="Д-12"):
    return contract_services.contract_create(actor=actor, company=company, number=number)


# Upload -----------------------------------------------------------------------------------------------------


def test_the_curator_uploads_a_document_stored_under_a_random_name(manager, company, settings):
    """D12: the bytes are stored through the storage API under documents/<company>/<document>/<uuid>, with
    their SHA-256, size and detected type; the display name keeps the Cyrillic."""
    document = services.document_upload(
        actor=manager,
        company=company,
        section="contracts",
        file=upload("..\\..\\Договор №12 от 01.02.2026.pdf", PDF),
        comment="  Скан   с подписями ",
    )
    version = document.versions.get()
    assert document.name == "Договор №12 от 01.02.2026.pdf" and document.version == 1
    assert version.original_name == document.name and version.number == 1
    assert version.sha256 == hashlib.sha256(PDF).hexdigest() and version.size == len(PDF)
    assert version.content_type == "application/pdf" and version.comment == "Скан с подписями"
    assert version.file.name.startswith(f"documents/{company.pk}/{document.pk}/")
    assert "Договор" not in version.file.name and "." not in os.path.basename(version.file.name)
    assert default_storage.open(version.file.name).read() == PDF
    assert [p.read_bytes() for p in stored_files(settings)] == [PDF]


def test_a_name_is_taken_when_given_and_an_extension_is_added_from_the_content(manager, company):
    document = services.document_upload(
        actor=manager,
        company=company,
        section="other",
        file=upload("scan.pdf", SAMPLES["jpeg"][1]),
        name="Фото склада",
    )
    assert document.name == "Фото склада"
    assert document.versions.get().original_name == "scan.jpg"
    assert document.versions.get().content_type == "image/jpeg"


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_accepted_kind_uploads(manager, company, kind):
    name, data = SAMPLES[kind]
    document = services.document_upload(
        actor=manager, company=company, section="other", file=upload(name, data)
    )
    assert document.versions.get().size == len(data)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_kind_writes_nothing(manager, company, settings, case):
    """R4: a renamed .exe, HTML, SVG … are refused with an error on the file field; nothing is stored."""
    before = snapshot(settings)
    name, data = REFUSED[case]
    with pytest.raises(ValidationError) as caught:
        services.document_upload(actor=manager, company=company, section="other", file=upload(name, data))
    assert caught.value.error_dict["file"][0].code == "unsupported_type"
    assert snapshot(settings) == before


def test_every_bad_field_is_named_at_once_and_nothing_is_written(manager, company, settings):
    """D12: section, links of another client, an empty file and a long comment — one answer names them all."""
    other = company_factory(actor=manager)
    contract = contract_for(manager, other)
    deal = sales_services.deal_create(actor=manager, company=other)
    before = snapshot(settings)
    with pytest.raises(ValidationError) as caught:
        services.document_upload(
            actor=manager,
            company=company,
            section="secret",
            file=upload("empty.pdf", b""),
            contract=contract,
            deal=deal.pk,
            conflict=999999,
            comment="x" * 600,
        )
    errors = caught.value.error_dict
    assert set(errors) == {"section", "file", "contract", "deal", "conflict", "comment"}
    assert errors["file"][0].code == "empty"
    assert errors["contract"][0].code == "other_client" and errors["deal"][0].code == "other_client"
    assert errors["conflict"][0].code == "invalid_choice"
    assert snapshot(settings) == before


def test_an_oversized_file_is_refused(manager, company, settings):
    settings.KURATOR_DOCUMENT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as caught:
        services.document_upload(actor=manager, company=company, section="other", file=upload())
    assert caught.value.error_dict["file"][0].code == "too_large"
    assert "100" in caught.value.error_dict["file"][0].messages[0]
    assert not Document.objects.exists() and stored_files(settings) == []


def test_links_of_the_same_client_are_kept(manager, company):
    contract = contract_for(manager, company)
    deal = sales_services.deal_create(actor=manager, company=company)
    document = document_factory(actor=manager, company=company, contract=contract.pk, deal=deal)
    assert (document.contract_id, document.deal_id) == (contract.pk, deal.pk)


@pytest.mark.parametrize("role", ["other_manager", "senior_manager"])
def test_who_does_not_curate_the_client_may_not_upload(request, company, settings, role):
    """R4: uploads are by the curator, finance, the head of sales and the administrator."""
    with pytest.raises(AccessDenied):
        document_factory(actor=request.getfixturevalue(role), company=company)
    assert not Document.objects.exists() and stored_files(settings) == []


def test_a_grant_to_read_does_not_let_upload(other_manager, head, company):
    grant(user=other_manager, company=company, granted_by=head)
    with pytest.raises(AccessDenied):
        document_factory(actor=other_manager, company=company)


@pytest.mark.parametrize("role", ["head", "finance", "admin_user"])
def test_the_office_uploads_to_any_client(request, company, role):
    actor = request.getfixturevalue(role)
    document = document_factory(actor=actor, company=company)
    assert document.created_by == actor


def test_a_failed_row_write_leaves_no_stored_file(manager, company, settings, monkeypatch):
    """D12: the stored file of a version whose row could not be written is deleted again."""

    def fail(*args, **kwargs):
        raise IntegrityError("simulated")

    monkeypatch.setattr(DocumentVersion, "save", fail)
    with pytest.raises(IntegrityError):
        document_factory(actor=manager, company=company)
    assert not Document.objects.exists()
    assert stored_files(settings) == []


def test_an_upload_is_audited_with_the_rule(manager, company):
    document = document_factory(actor=manager, company=company)
    event = AuditEvent.objects.get(action="upload")
    assert (event.user, event.object_type, event.object_id, event.company_id) == (
        manager,
        "document",
        document.pk,
        company.pk,
    )
    assert event.allowed and event.rule == "curator" and "v1" in event.detail


# Versions ---------------------------------------------------------------------------------------------------


def test_a_new_upload_is_the_next_version_and_the_old_one_stays(manager, finance, company):
    """D12: version 2 is added; version 1's row and bytes are untouched."""
    document = document_factory(actor=manager, company=company)
    first = document.versions.get()
    second_bytes = SAMPLES["docx"][1]
    version = services.document_add_version(
        actor=finance, document=document, file=upload("Договор (новый).docx", second_bytes), comment="правки"
    )
    document.refresh_from_db()
    assert version.number == 2 and document.version == 2
    assert version.uploaded_by == finance and version.original_name == "Договор (новый).docx"
    assert default_storage.open(first.file.name).read() == PDF
    assert default_storage.open(version.file.name).read() == second_bytes
    assert list(document.versions.order_by("number").values_list("number", flat=True)) == [1, 2]
    assert AuditEvent.objects.filter(action="upload", detail__startswith="v2").count() == 1


def test_a_refused_version_writes_nothing(manager, company, settings):
    document = document_factory(actor=manager, company=company)
    before = snapshot(settings)
    with pytest.raises(ValidationError) as caught:
        services.document_add_version(
            actor=manager, document=document, file=upload("x.svg", REFUSED["svg"][1])
        )
    assert "file" in caught.value.error_dict
    assert snapshot(settings) == before


def test_no_version_is_added_to_a_trashed_document(manager, company):
    document = document_factory(actor=manager, company=company)
    services.document_trash(actor=manager, document=document, reason="ошибка")
    with pytest.raises(ValidationError) as caught:
        services.document_add_version(actor=manager, document=document, file=upload())
    assert caught.value.error_dict["file"][0].code == "trashed"


def test_a_colleague_may_not_add_a_version(manager, other_manager, company):
    document = document_factory(actor=manager, company=company)
    with pytest.raises(AccessDenied):
        services.document_add_version(actor=other_manager, document=document, file=upload())
    assert document.versions.count() == 1


# Trash, restore, purge --------------------------------------------------------------------------------------


def test_trash_needs_a_reason_and_keeps_everything(manager, company, settings):
    """D12: moving to the trash deletes nothing; the reason is required."""
    document = document_factory(actor=manager, company=company)
    with pytest.raises(ValidationError) as caught:
        services.document_trash(actor=manager, document=document, reason="   ")
    assert caught.value.error_dict["reason"][0].code == "required"
    document.refresh_from_db()
    assert document.trashed_at is None
    services.document_trash(actor=manager, document=document, reason="Загружен не тот файл")
    document.refresh_from_db()
    assert document.trashed_at and document.trashed_by == manager
    assert document.trash_reason == "Загружен не тот файл"
    assert document.versions.count() == 1 and len(stored_files(settings)) == 1
    event = AuditEvent.objects.get(action="trash")
    assert event.rule == "curator" and event.detail == "Загружен не тот файл"


def test_trashing_twice_is_refused(manager, company):
    document = document_factory(actor=manager, company=company)
    services.document_trash(actor=manager, document=document, reason="a")
    with pytest.raises(ValidationError):
        services.document_trash(actor=manager, document=document, reason="b")


def test_a_colleague_may_not_trash(manager, other_manager, company):
    document = document_factory(actor=manager, company=company)
    with pytest.raises(AccessDenied):
        services.document_trash(actor=other_manager, document=document, reason="x")


@pytest.mark.parametrize("role", ["head", "admin_user"])
def test_the_head_of_sales_restores(request, manager, company, role):
    document = document_factory(actor=manager, company=company)
    services.document_trash(actor=manager, document=document, reason="ошибка")
    actor = request.getfixturevalue(role)
    services.document_restore(actor=actor, document=document)
    document.refresh_from_db()
    assert document.trashed_at is None and document.trash_reason == ""
    event = AuditEvent.objects.get(action="restore")
    assert event.user == actor and event.detail == "ошибка"


@pytest.mark.parametrize("role", ["manager", "finance"])
def test_others_may_not_restore(request, manager, company, role):
    document = document_factory(actor=manager, company=company)
    services.document_trash(actor=manager, document=document, reason="ошибка")
    with pytest.raises(AccessDenied):
        services.document_restore(actor=request.getfixturevalue(role), document=document)


def test_restoring_what_is_not_in_the_trash_is_refused(head, manager, company):
    document = document_factory(actor=manager, company=company)
    with pytest.raises(ValidationError):
        services.document_restore(actor=head, document=document)


def _trashed_long_ago(document, days):
    Document.objects.filter(pk=document.pk).update(trashed_at=timezone.now() - timedelta(days=days))
    document.refresh_from_db()


def test_the_administrator_purges_after_the_retention_period(
    manager, head, admin_user, company, settings, django_capture_on_commit_callbacks
):
    """D12: the only hard delete — rows, every version's file, the grants and requests naming it — and the
    audit log keeps a line saying so."""
    document = document_factory(actor=manager, company=company)
    services.document_add_version(actor=manager, document=document, file=upload())
    other = document_factory(actor=manager, company=company)
    grant(user=head, company=company, granted_by=head, document=document)
    AccessRequest.objects.create(requester=head, company=company, document=document, reason="нужно")
    services.document_trash(actor=manager, document=document, reason="дубль")
    _trashed_long_ago(document, 366)
    assert len(stored_files(settings)) == 3
    pk = document.pk
    with django_capture_on_commit_callbacks(execute=True):
        services.document_purge(actor=admin_user, document=document)
    assert not Document.objects.filter(pk=pk).exists()
    assert not DocumentVersion.objects.filter(document_id=pk).exists()
    assert not AccessGrant.objects.filter(document_id=pk).exists()
    assert not AccessRequest.objects.filter(document_id=pk).exists()
    assert [p.read_bytes() for p in stored_files(settings)] == [PDF]  # the other document's
    assert Document.objects.filter(pk=other.pk).exists()
    event = AuditEvent.objects.get(action="purge")
    assert (event.user, event.object_id, event.company_id, event.rule) == (
        admin_user,
        pk,
        company.pk,
        "admin",
    )
    trashed = timezone.localdate(document.trashed_at)
    assert event.detail == f"{document.name}; versions:2; trashed:{trashed:%Y-%m-%d}: дубль"


def test_purge_is_refused_before_the_retention_period(manager, admin_user, company, settings):
    document = document_factory(actor=manager, company=company)
    services.document_trash(actor=manager, document=document, reason="дубль")
    _trashed_long_ago(document, 364)
    with pytest.raises(ValidationError) as caught:
        services.document_purge(actor=admin_user, document=document)
    assert caught.value.error_dict["document"][0].code == "retention"
    assert "only after 365 days in the trash" in caught.value.error_dict["document"][0].message
    assert Document.objects.filter(pk=document.pk).exists() and len(stored_files(settings)) == 1
    settings.KURATOR_DOCUMENT_RETENTION_DAYS = 30
    services.document_purge(actor=admin_user, document=document)
    assert not Document.objects.filter(pk=document.pk).exists()


def test_purge_is_refused_for_a_document_not_in_the_trash(manager, admin_user, company):
    document = document_factory(actor=manager, company=company)
    with pytest.raises(ValidationError) as caught:
        services.document_purge(actor=admin_user, document=document)
    assert caught.value.error_dict["document"][0].code == "not_trashed"


@pytest.mark.parametrize("role", ["manager", "head", "finance"])
def test_only_the_administrator_purges(request, manager, company, role):
    document = document_factory(actor=manager, company=company)
    services.document_trash(actor=manager, document=document, reason="дубль")
    _trashed_long_ago(document, 400)
    with pytest.raises(AccessDenied):
        services.document_purge(actor=request.getfixturevalue(role), document=document)
    assert Document.objects.filter(pk=document.pk).exists()


# Opening a stored file --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "rule"),
    [("manager", "curator"), ("head", "head_of_sales"), ("finance", "finance"), ("admin_user", "admin")],
)
def test_a_download_is_logged_with_the_rule_that_allowed_it(request, manager, company, role, rule):
    """R4/D12: user, object, company, allowed and the rule."""
    document = document_factory(actor=manager, company=company)
    actor = request.getfixturevalue(role)
    handle, version = services.document_open(actor=actor, document=document, request=None)
    assert handle.read() == PDF and version.number == 1
    event = AuditEvent.objects.get(action="download")
    assert (event.user, event.object_id, event.company_id, event.allowed, event.rule) == (
        actor,
        document.pk,
        company.pk,
        True,
        rule,
    )


def test_a_grant_opens_the_download_and_is_named(manager, other_manager, head, company):
    document = document_factory(actor=manager, company=company)
    given = grant(user=other_manager, company=company, granted_by=head)
    services.document_open(actor=other_manager, document=document, request=None)
    assert AuditEvent.objects.get(action="download").rule == f"grant:{given.pk}"


def test_a_refused_download_is_logged(manager, other_manager, company):
    """R4: no grant — refused, and the refusal is in the log."""
    document = document_factory(actor=manager, company=company)
    with pytest.raises(AccessDenied):
        services.document_open(actor=other_manager, document=document, request=None)
    event = AuditEvent.objects.get(action="download")
    assert not event.allowed and event.rule == "no_grant" and event.user == other_manager


def test_an_earlier_version_can_be_downloaded(manager, company):
    document = document_factory(actor=manager, company=company)
    services.document_add_version(
        actor=manager, document=document, file=upload("new.docx", SAMPLES["docx"][1])
    )
    handle, version = services.document_open(actor=manager, document=document, version=1, request=None)
    assert version.number == 1 and handle.read() == PDF
    handle, version = services.document_open(actor=manager, document=document, request=None)
    assert version.number == 2 and handle.read() == SAMPLES["docx"][1]


def test_tampered_bytes_are_never_served(manager, company, settings):
    """D12: a stored file changed behind Kurator's back fails the SHA-256 check: refused and logged."""
    document = document_factory(actor=manager, company=company)
    version = document.versions.get()
    path = Path(settings.MEDIA_ROOT) / version.file.name
    path.write_bytes(PDF.replace(b"Dogovor", b"Podlog!"))
    with pytest.raises(services.DocumentUnavailable) as caught:
        services.document_open(actor=manager, document=document, request=None)
    assert caught.value.detail == "checksum mismatch"
    assert "does not match its checksum" in str(caught.value.message)
    event = AuditEvent.objects.get(action="download")
    assert not event.allowed and event.detail == "checksum mismatch" and event.rule == "curator"


def test_a_missing_stored_file_is_reported(manager, company, settings):
    document = document_factory(actor=manager, company=company)
    (Path(settings.MEDIA_ROOT) / document.versions.get().file.name).unlink()
    with pytest.raises(services.DocumentUnavailable) as caught:
        services.document_open(actor=manager, document=document, request=None)
    assert caught.value.detail == "file missing"
    assert AuditEvent.objects.get(action="download").detail == "file missing"

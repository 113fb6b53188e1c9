"""Every write to the dossier's documents, and the one way to read a stored file (D12: nothing is lost; R4).

- ``document_upload``: a new document in a section of a client's dossier, optionally tied to one of the
  client's contracts, deals or conflicts. ``document_add_version``: the next version of it; old versions stay.
- ``document_trash`` / ``document_restore``: "deleting" moves a document to the trash with a reason; the head
  of sales restores it. ``document_purge``: the administrator deletes a document for good — rows and stored
  files — only once it has been in the trash longer than ``KURATOR_DOCUMENT_RETENTION_DAYS``. It is the only
  hard delete in Kurator, and it is audited.
- ``document_open``: the bytes of a version for a download, after the clearance check (``clearance``) and a
  SHA-256 check of what the storage returns; both outcomes go to the audit log.

The file is checked by its content (kurator.documents.content), against ``KURATOR_DOCUMENT_MAX_BYTES``, and
stored through Django's storage API under a random name. Every field is validated before anything is written
(one ValidationError naming each bad field); a refused upload leaves no row and no stored file behind, and a
stored file whose row could not be written is deleted again.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kurator.access.audit import audit_record
from kurator.access.confidential import clearance
from kurator.access.decorators import ensure
from kurator.access.models import AccessGrant, AccessRequest, AuditAction
from kurator.access.policy import REFUSALS
from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.core.cleaning import one_line, record_by_id
from kurator.core.errors import AccessDenied, FieldErrors
from kurator.documents.content import Refused, clean_display_name, file_name_for, inspect_file
from kurator.documents.models import Document, DocumentSection, DocumentVersion

__all__ = [
    "DocumentUnavailable",
    "document_add_version",
    "document_open",
    "document_purge",
    "document_restore",
    "document_trash",
    "document_upload",
    "max_bytes",
    "purge_cutoff",
    "purgeable",
    "purgeable_from",
    "retention_days",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DEFAULT_RETENTION_DAYS = 365
COMMENT_LENGTH = 500
REASON_LENGTH = 500
NAME_LENGTH = 255
# What a download keeps in memory before spilling to a temporary file.
SPOOL_BYTES = 1024 * 1024
CHECKSUM_MISMATCH = "checksum mismatch"
FILE_MISSING = "file missing"


class DocumentUnavailable(Exception):
    """The stored bytes are missing or differ from their checksum: the download is refused (never served
    corrupt). ``detail`` is what the audit log records."""

    def __init__(self, message: Any, detail: str) -> None:
        super().__init__(str(message))
        self.message = message
        self.detail = detail


def max_bytes() -> int:
    return int(getattr(settings, "KURATOR_DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def retention_days() -> int:
    return int(getattr(settings, "KURATOR_DOCUMENT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def purge_cutoff() -> datetime:
    """Documents trashed before this moment may be purged."""
    return timezone.now() - timedelta(days=retention_days())


def purgeable_from(document: Document) -> datetime | None:
    """When a trashed document may be purged (None when it is not in the trash)."""
    if document.trashed_at is None:
        return None
    return document.trashed_at + timedelta(days=retention_days())


def purgeable(document: Document) -> bool:
    return document.trashed_at is not None and document.trashed_at <= purge_cutoff()


# Checks -----------------------------------------------------------------------------------------------------


def _clean_file(errors: FieldErrors, file: Any, fallback_name: str) -> tuple[Any, str] | None:
    """(inspection, clean file name) of an upload, or None with the reason recorded against ``file``."""
    if file is None or not hasattr(file, "read"):
        errors.add("file", gettext_lazy("Choose a file to upload."), "required")
        return None
    try:
        inspection = inspect_file(file, max_bytes=max_bytes())
    except Refused as exc:
        errors.add("file", exc)
        return None
    name = file_name_for(getattr(file, "name", "") or "", inspection.kind, fallback_name)
    return inspection, name


def _clean_link(errors: FieldErrors, company: Company, field: str, model: Any, value: Any) -> Any:
    if value in (None, ""):
        return None
    record = record_by_id(model, value)
    if record is None:
        errors.add(field, gettext_lazy("The record was not found."), "invalid_choice")
        return None
    if record.company_id != company.pk:
        errors.add(
            field,
            gettext_lazy("It belongs to another client; choose one of this client's."),
            "other_client",
        )
        return None
    return record


def _clean_comment(errors: FieldErrors, comment: Any) -> str:
    text = " ".join(str(comment or "").split())
    if len(text) > COMMENT_LENGTH:
        errors.add(
            "comment",
            gettext_lazy("The comment is too long: at most %(limit)s characters.")
            % {"limit": COMMENT_LENGTH},
            "max_length",
        )
    return text[:COMMENT_LENGTH]


# Storing ----------------------------------------------------------------------------------------------------


def _store(
    document: Document, file: IO[bytes], inspection: Any, name: str, actor: User, comment: str
) -> DocumentVersion:
    version = DocumentVersion(
        document=document,
        number=document.version,
        original_name=name,
        content_type=inspection.kind.content_type,
        size=inspection.size,
        sha256=inspection.sha256,
        uploaded_by=actor,
        comment=comment,
    )
    file.seek(0)
    # upload_to makes the storage name (documents/<company>/<document>/<random>); the uploaded name is unused.
    version.file.save("upload", file, save=False)
    return version


def _written(action: Callable[[list[str]], Any]) -> Any:
    """Run ``action(stored)`` in a transaction; the storage names it appends to ``stored`` are deleted again
    if the rows could not be written, so that a refused or failed write leaves no file behind."""
    stored: list[str] = []
    try:
        with transaction.atomic():
            return action(stored)
    except BaseException:
        for name in stored:
            try:
                default_storage.delete(name)
            except Exception:  # the original error matters more; a leftover is only logged
                logger.exception("could not delete the stored file %s after a failed write", name)
        raise


# Upload and versions ----------------------------------------------------------------------------------------


def document_upload(
    *,
    actor: User,
    company: Company,
    section: Any,
    file: Any,
    contract: Any = None,
    deal: Any = None,
    conflict: Any = None,
    name: Any = None,
    comment: Any = "",
    request: HttpRequest | None = None,
) -> Document:
    """Upload a document to a section of ``company``'s dossier (D12), tied to one of its contracts, deals or
    conflicts if given. The curator, finance and the head of sales upload (``documents.add_document``)."""
    from kurator.finance.models import Conflict, Contract
    from kurator.sales.models import Deal

    ensure(actor, "documents.add_document", company)
    errors = FieldErrors()
    if company.merged_into_id is not None:
        errors.add("company", gettext_lazy("This company was merged into another one."), "company_merged")
    if section not in DocumentSection.values:
        errors.add("section", gettext_lazy("Choose a section of the list."), "invalid_choice")
    links = {
        "contract": _clean_link(errors, company, "contract", Contract, contract),
        "deal": _clean_link(errors, company, "deal", Deal, deal),
        "conflict": _clean_link(errors, company, "conflict", Conflict, conflict),
    }
    checked = _clean_file(errors, file, str(name or ""))
    title = clean_display_name(name)[:NAME_LENGTH] if name not in (None, "") else ""
    if name not in (None, "") and not title:
        errors.add("name", gettext_lazy("Give the document a name."), "required")
    text = _clean_comment(errors, comment)
    errors.raise_if_any()
    assert checked is not None
    inspection, file_name = checked
    rule = clearance(actor, company).rule

    def write(stored: list[str]) -> Document:
        document = Document.objects.create(
            company=company,
            section=section,
            name=title or file_name,
            version=1,
            created_by=actor,
            **links,
        )
        version = _store(document, file, inspection, file_name, actor, text)
        stored.append(version.file.name)
        version.save()
        audit_record(
            action=AuditAction.UPLOAD,
            allowed=True,
            rule=rule,
            user=actor,
            obj=document,
            request=request,
            detail=f"v1 {file_name}",
        )
        return document

    document: Document = _written(write)
    return document


def _locked(document: Document) -> Document:
    return Document.objects.select_for_update(of=("self",)).select_related("company").get(pk=document.pk)


def document_add_version(
    *, actor: User, document: Document, file: Any, comment: Any = "", request: HttpRequest | None = None
) -> DocumentVersion:
    """A new upload of the same document becomes its next version (number = latest + 1); the earlier
    versions stay as they were (D12)."""
    ensure(actor, "documents.add_document", document.company)
    errors = FieldErrors()
    if document.trashed_at is not None:
        errors.add(
            "file",
            gettext_lazy("The document is in the trash; it must be restored before a new version is added."),
            "trashed",
        )
    checked = _clean_file(errors, file, document.name)
    text = _clean_comment(errors, comment)
    errors.raise_if_any()
    assert checked is not None
    inspection, file_name = checked
    rule = clearance(actor, document.company).rule

    def write(stored: list[str]) -> DocumentVersion:
        locked = _locked(document)
        if locked.trashed_at is not None:  # trashed by someone else meanwhile
            raise ValidationError(
                {
                    "file": [
                        ValidationError(
                            gettext_lazy("The document was moved to the trash meanwhile."), code="trashed"
                        )
                    ]
                }
            )
        locked.version += 1
        version = _store(locked, file, inspection, file_name, actor, text)
        stored.append(version.file.name)
        version.save()
        locked.save(update_fields=["version", "updated_at"])
        audit_record(
            action=AuditAction.UPLOAD,
            allowed=True,
            rule=rule,
            user=actor,
            obj=locked,
            request=request,
            detail=f"v{locked.version} {file_name}",
        )
        return version

    version: DocumentVersion = _written(write)
    document.version = version.number
    return version


# Trash, restore, purge --------------------------------------------------------------------------------------


@transaction.atomic
def document_trash(
    *, actor: User, document: Document, reason: Any, request: HttpRequest | None = None
) -> Document:
    """Move a document to the trash with a reason (nothing is deleted; the head of sales restores)."""
    ensure(actor, "documents.trash_document", document)
    locked = _locked(document)
    errors = FieldErrors()
    text = one_line(reason, REASON_LENGTH + 1)
    if not text:
        errors.add("reason", gettext_lazy("Say why the document goes to the trash."), "required")
    elif len(text) > REASON_LENGTH:
        errors.add(
            "reason",
            gettext_lazy("The reason is too long: at most %(limit)s characters.") % {"limit": REASON_LENGTH},
            "max_length",
        )
    if locked.trashed_at is not None:
        errors.add("document", gettext_lazy("The document is already in the trash."), "trashed")
    errors.raise_if_any()
    locked.trashed_at = timezone.now()
    locked.trashed_by = actor
    locked.trash_reason = text
    locked.save(update_fields=["trashed_at", "trashed_by", "trash_reason", "updated_at"])
    audit_record(
        action=AuditAction.TRASH,
        allowed=True,
        rule=clearance(actor, locked.company).rule,
        user=actor,
        obj=locked,
        request=request,
        detail=text,
    )
    return locked


@transaction.atomic
def document_restore(*, actor: User, document: Document, request: HttpRequest | None = None) -> Document:
    """Take a document out of the trash (the head of sales)."""
    ensure(actor, "documents.restore_document", document)
    locked = _locked(document)
    if locked.trashed_at is None:
        errors = FieldErrors()
        errors.add("document", gettext_lazy("The document is not in the trash."), "not_trashed")
        errors.raise_if_any()
    reason = locked.trash_reason
    locked.trashed_at = None
    locked.trashed_by = None
    locked.trash_reason = ""
    locked.save(update_fields=["trashed_at", "trashed_by", "trash_reason", "updated_at"])
    audit_record(
        action=AuditAction.RESTORE,
        allowed=True,
        rule=clearance(actor, locked.company).rule,
        user=actor,
        obj=locked,
        request=request,
        detail=reason,
    )
    return locked


@transaction.atomic
def document_purge(*, actor: User, document: Document, request: HttpRequest | None = None) -> None:
    """Delete a document for good — its rows, its versions' stored files, and the access requests and grants
    that named it — once it has been in the trash longer than the retention period (the administrator only).
    The audit log keeps the line that says so; the files go after the commit, so a rollback loses nothing."""
    ensure(actor, "documents.purge_document", document)
    locked = _locked(document)
    errors = FieldErrors()
    if locked.trashed_at is None:
        errors.add(
            "document",
            gettext_lazy("Only a document in the trash can be purged; move it to the trash first."),
            "not_trashed",
        )
    elif not purgeable(locked):
        errors.add(
            "document",
            ngettext(
                "A document can be purged only after %(days)s day in the trash; this one may be purged "
                "from %(date)s.",
                "A document can be purged only after %(days)s days in the trash; this one may be purged "
                "from %(date)s.",
                retention_days(),
            )
            % {
                "days": retention_days(),
                "date": date_format(timezone.localtime(purgeable_from(locked)), "SHORT_DATE_FORMAT"),
            },
            "retention",
        )
    errors.raise_if_any()
    versions = list(DocumentVersion.objects.filter(document=locked).values_list("number", "file"))
    audit_record(
        action=AuditAction.PURGE,
        allowed=True,
        rule=clearance(actor, locked.company).rule,
        user=actor,
        obj=locked,
        request=request,
        # Machine form; the audit page and export say it in words (kurator/access/labels.py).
        detail=one_line(
            f"{locked.name}; versions:{len(versions)}; "
            f"trashed:{timezone.localdate(locked.trashed_at):%Y-%m-%d}: {locked.trash_reason}",
            500,
        ),
    )
    AccessGrant.objects.filter(document=locked).delete()
    AccessRequest.objects.filter(document=locked).delete()
    DocumentVersion.objects.filter(document=locked).delete()
    Document.objects.filter(pk=locked.pk).delete()
    names = [name for _number, name in versions if name]

    def delete_files() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except Exception:
                logger.exception("could not delete the purged file %s", name)

    transaction.on_commit(delete_files)


# Reading a stored file --------------------------------------------------------------------------------------


def _version_of(document: Document, version: Any) -> DocumentVersion:
    qs = DocumentVersion.objects.filter(document=document).select_related("uploaded_by")
    if isinstance(version, DocumentVersion):
        if version.document_id != document.pk:
            raise Http404
        return version
    number = document.version if version in (None, "") else version
    try:
        return qs.get(number=int(number))
    except (DocumentVersion.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def _verified(version: DocumentVersion) -> IO[bytes]:
    """The stored bytes, read once into a spooled copy while hashing: what is served is what was checked."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (returned open)
    digest = hashlib.sha256()
    try:
        with default_storage.open(version.file.name, "rb") as stored:
            for chunk in iter(lambda: stored.read(64 * 1024), b""):
                digest.update(chunk)
                spool.write(chunk)
    except OSError:
        spool.close()
        logger.error("document version %s: the stored file %s is missing", version.pk, version.file.name)
        raise DocumentUnavailable(
            _(
                "The stored file of this document is missing, so it cannot be downloaded. Tell the "
                "administrator: it has to be restored from a backup."
            ),
            FILE_MISSING,
        ) from None
    if digest.hexdigest() != version.sha256:
        spool.close()
        logger.error("document version %s: checksum mismatch of %s", version.pk, version.file.name)
        raise DocumentUnavailable(
            _(
                "The stored file does not match its checksum: it was changed or damaged in storage. The "
                "download is refused so that no damaged copy is passed on. Tell the administrator: it has to "
                "be restored from a backup."
            ),
            CHECKSUM_MISMATCH,
        )
    spool.seek(0)
    return spool


def document_open(
    *, actor: User, document: Document, version: Any = None, request: HttpRequest | None
) -> tuple[IO[bytes], DocumentVersion]:
    """The verified bytes of ``version`` (the latest when None) for a download, and the version.

    The clearance (curator, head of sales, finance, administrator or a grant) is checked first; a refusal is
    logged (``no_grant``) and raises AccessDenied. A missing file or a checksum mismatch is logged and raises
    DocumentUnavailable. A download is logged with the rule or grant that allowed it (D12, R4). Not atomic:
    the audit lines of refusals must stay."""
    allowed = clearance(actor, document)
    if not allowed.allowed:
        audit_record(
            action=AuditAction.DOWNLOAD,
            allowed=False,
            rule=allowed.rule,
            user=actor,
            obj=document,
            request=request,
        )
        raise AccessDenied(str(REFUSALS["documents.view_document"]))
    chosen = _version_of(document, version)
    try:
        handle = _verified(chosen)
    except DocumentUnavailable as exc:
        audit_record(
            action=AuditAction.DOWNLOAD,
            allowed=False,
            rule=allowed.rule,
            user=actor,
            obj=document,
            request=request,
            detail=exc.detail,
        )
        raise
    audit_record(
        action=AuditAction.DOWNLOAD,
        allowed=True,
        rule=allowed.rule,
        user=actor,
        obj=document,
        request=request,
        detail=f"v{chosen.number}",
    )
    return handle, chosen
